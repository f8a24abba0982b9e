"""Server-Sent Events: every change in the workspace, pushed to the pages that may see it.

The workspace calls ``Hub.changed`` inside the Web API call that made the change; the hub
shapes the event for each open page (per person: an ephemeral message or a modal goes only
to the person it is for) and queues it. A page that falls too far behind is disconnected:
its EventSource reconnects and reloads the whole state, so it never shows a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field

from aiohttp import web

from sandbox.emulator import SlackEmulator
from sandbox.models import Change
from sandbox.web.state import JSON, change_event

QUEUE_LIMIT = 1000
KEEPALIVE_SECONDS = 15.0
RECONNECT_MS = 500
"""How soon a page's EventSource reconnects after its stream ends (SSE ``retry:``)."""


@dataclass
class Subscriber:
    user: str
    queue: asyncio.Queue[tuple[str, JSON] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )


class Hub:
    """The open event streams, fed by the emulator's workspace."""

    def __init__(self, emulator: SlackEmulator) -> None:
        self.emulator = emulator
        self.subscribers: list[Subscriber] = []
        self._stop_watching = emulator.workspace.watch(self.changed)

    def close(self) -> None:
        """Stop watching and end every stream (at shutdown)."""
        self._stop_watching()
        self.drop_all()

    def drop_all(self) -> None:
        """End every open stream, as a network drop would; the pages reconnect and reload."""
        for subscriber in list(self.subscribers):
            self._drop(subscriber)

    def changed(self, change: Change) -> None:
        for subscriber in list(self.subscribers):
            event = change_event(self.emulator, change, subscriber.user)
            if event is None:
                continue
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop(subscriber)

    def _drop(self, subscriber: Subscriber) -> None:
        """Too far behind: end its stream (the page reconnects and reloads)."""
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        with contextlib.suppress(asyncio.QueueFull):
            subscriber.queue.put_nowait(None)

    async def stream(self, request: web.Request, user: str) -> web.StreamResponse:
        """Serve one page's ``text/event-stream`` until it goes away."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        subscriber = Subscriber(user)
        self.subscribers.append(subscriber)
        try:
            await response.write(f"retry: {RECONNECT_MS}\n".encode())
            await response.write(_frame("ready", {"user": user}))
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break
                await response.write(_frame(*event))
        except ConnectionResetError:
            pass  # the page went away; it reconnects if it is still open
        finally:
            if subscriber in self.subscribers:
                self.subscribers.remove(subscriber)
        return response


def _frame(name: str, data: JSON) -> bytes:
    """One SSE event; JSON has no raw newlines, so one ``data:`` line is enough."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
