"""The work bolt leaves running after ``ack()``, finished before the engine is closed.

Bolt answers Slack at ``ack()`` and runs the rest of a listener in a task nobody keeps
(``process_before_response=False``). Shutting down while such a task still holds a
database connection disposed of the engine under it: the task died with the event loop
and its connection was never closed, only garbage-collected later. Here each listener's
task is noted as it starts, and clean-up lets the ones still running finish (bounded),
then cancels the rest, so every unit of work ends and gives its connection back first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger("handrail.slack")

#: How long shutdown waits for listeners still at work before cancelling them.
DRAIN_SECONDS = 10.0


class ListenerTasks(AsyncListenerStartHandler):
    """Bolt's listener start handler: it runs inside each listener's own task."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[object]] = set()

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def drain(self, within: float = DRAIN_SECONDS) -> None:
        """Wait for the listeners still at work; cancel those left after ``within`` seconds."""
        running = [task for task in self._running if task is not asyncio.current_task()]
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=within)
        if late:
            log.warning("shutting down: %d Slack listener(s) still at work cancelled", len(late))
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
