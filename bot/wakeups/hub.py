"""The one interface: ``publish(channel, key)`` here, ``subscribe(channel, callback)`` there."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("handrail.wakeups")

HANDOFF = "handoff"
"""Key: a handoff ID whose status just changed (decided, expired, cancelled)."""
OUTBOX = "outbox"
"""Key unused: outbox rows were just committed."""
RESYNC = "*"
"""Delivered by a transport that may have missed messages (it just reconnected): every
subscriber of every channel is called with an empty key and should re-read."""

Deliver = Callable[[str, str], None]
Callback = Callable[[str], None]


class Transport(Protocol):
    """Carries ``(channel, key)`` to the other processes; ``send`` never blocks or raises."""

    async def start(self, deliver: Deliver) -> None: ...

    def send(self, channel: str, key: str) -> None: ...

    async def stop(self) -> None: ...


class Wakeups:
    """This process's subscribers, and the transport to the others (None: this process only)."""

    def __init__(self, transport: Transport | None = None) -> None:
        self.transport = transport
        self._subscribers: defaultdict[str, list[Callback]] = defaultdict(list)

    def subscribe(self, channel: str, callback: Callback) -> None:
        """Call ``callback(key)`` on every wake-up of ``channel``, from here or elsewhere.

        Callbacks run on the event loop and must be cheap (set an event, no I/O)."""
        self._subscribers[channel].append(callback)

    def publish(self, channel: str, key: str = "") -> None:
        """Wake ``channel``'s subscribers here and in every other process; call it after the
        transaction that made the change has committed."""
        self.deliver(channel, key)
        if self.transport is not None:
            self.transport.send(channel, key)

    def deliver(self, channel: str, key: str) -> None:
        """What a transport calls with a message from another process."""
        if channel == RESYNC:
            for callbacks in list(self._subscribers.values()):
                self._call(callbacks, "")
            return
        self._call(self._subscribers.get(channel, ()), key)

    async def start(self) -> None:
        if self.transport is not None:
            await self.transport.start(self.deliver)

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.stop()

    @staticmethod
    def _call(callbacks: list[Callback] | tuple[()], key: str) -> None:
        for callback in callbacks:
            try:
                callback(key)
            except Exception:  # one subscriber's bug must not starve the others
                log.exception("a wake-up subscriber failed")
