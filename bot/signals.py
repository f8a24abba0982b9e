"""In-process wake-ups for long-polls: a decision recorded here answers waiting pollers at
once; pollers also re-read the database every second, which covers other instances.

An event is kept only while someone waits on its key: a poll that times out on a handoff
never decided (it expired, its run was removed) takes its event with it, so the map stays
as small as the number of polls in flight, however long the process runs.
"""

from __future__ import annotations

import asyncio


class Signals:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._waiters: dict[str, int] = {}

    def notify(self, key: str) -> None:
        """Wake everyone waiting on ``key`` (call after the transaction commits)."""
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    async def wait(self, key: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``key``; True when woken by ``notify``."""
        event = self._events.setdefault(key, asyncio.Event())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            left = self._waiters[key] - 1
            if left:
                self._waiters[key] = left
            else:
                del self._waiters[key]
                if self._events.get(key) is event:
                    del self._events[key]
        return True

    def keys_waited_on(self) -> int:
        """How many keys have an event kept for them (the map's size)."""
        return len(self._events)
