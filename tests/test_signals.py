"""Long-poll wake-ups: nothing is kept for a key once nobody waits on it."""

from __future__ import annotations

import asyncio

from bot.wakeups.waiters import Signals


async def test_a_wait_that_times_out_leaves_nothing_behind() -> None:
    """A long-poll on a handoff never decided keeps no event once it has timed out."""
    signals = Signals()
    assert not await signals.wait("hof_never_decided", 0.01)
    assert signals.keys_waited_on() == 0


async def test_notify_wakes_every_waiter_of_the_key() -> None:
    """Two pollers of one handoff both wake on its decision, and nothing is kept."""
    signals = Signals()
    waiting = [asyncio.create_task(signals.wait("hof_1", 5)) for _ in range(2)]
    await asyncio.sleep(0)
    signals.notify("hof_1")
    assert await asyncio.gather(*waiting) == [True, True]
    assert signals.keys_waited_on() == 0


async def test_one_timeout_does_not_drop_another_waiter() -> None:
    """A poller that times out leaves the event of a poller still waiting on the same key."""
    signals = Signals()
    patient = asyncio.create_task(signals.wait("hof_1", 5))
    assert not await signals.wait("hof_1", 0.01)
    signals.notify("hof_1")
    assert await patient
