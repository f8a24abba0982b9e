"""In-process wake-ups for long-polls: a decision recorded here answers waiting pollers at
once; pollers also re-read the database every second, which covers other instances."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class Signals:
    def __init__(self) -> None:
        self._events: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def notify(self, key: str) -> None:
        """Wake everyone waiting on ``key`` (call after the transaction commits)."""
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    async def wait(self, key: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``key``; True when woken by ``notify``."""
        event = self._events[key]
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True
