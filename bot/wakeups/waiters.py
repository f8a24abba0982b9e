"""Long-polls waiting on handoffs in this process, and how they are woken.

A change recorded here wakes its waiters at once (``notify``) and is published to the other
processes (``broadcast``, wired to ``bot.wakeups`` by ``Services``); a change recorded
elsewhere arrives through ``wake``. Pollers also re-read the database on a timer, so a
wake-up that never arrives delays an answer by one interval and loses nothing.

An event is kept only while someone watches its key: a poll that times out on a handoff
never decided (it expired, its run was removed) takes its event with it, so the map stays
as small as the number of polls in flight, however long the process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator


def _nowhere(_key: str) -> None:
    return None


class Signals:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._watchers: Counter[str] = Counter()
        self.broadcast: Callable[[str], None] = _nowhere

    def notify(self, key: str) -> None:
        """Wake everyone waiting on ``key`` here and elsewhere (call after the commit)."""
        self.wake(key)
        self.broadcast(key)

    def wake(self, key: str) -> None:
        """Wake everyone waiting on ``key`` in this process only; an empty key wakes all."""
        if not key:
            events = list(self._events.values())
            self._events.clear()
        else:
            event = self._events.pop(key, None)
            events = [] if event is None else [event]
        for event in events:
            event.set()

    @contextlib.contextmanager
    def watching(self, key: str) -> Iterator[asyncio.Event]:
        """An event set by the next wake-up of ``key``; taken BEFORE reading the database,
        so a change committed while the read is in flight still wakes the reader."""
        event = self._events.setdefault(key, asyncio.Event())
        self._watchers[key] += 1
        try:
            yield event
        finally:
            self._watchers[key] -= 1
            if self._watchers[key] <= 0:
                del self._watchers[key]
                if self._events.get(key) is event:
                    del self._events[key]

    async def wait(self, key: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``key``; True when woken."""
        with self.watching(key) as event:
            return await wait_for_event(event, seconds)

    def keys_waited_on(self) -> int:
        """How many keys have an event kept for them (the map's size)."""
        return len(self._events)


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """True when ``event`` was set within ``seconds``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()
