"""Clicks that record decisions share a few slots; their acknowledgements never wait."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.actions import Click, acked_first


async def test_acks_go_out_at_once_and_work_takes_turns() -> None:
    """With one slot, five clicks are all acknowledged before any work ends, one at a time."""
    acked: list[int] = []
    running: list[int] = []
    peak = 0
    release, all_acked = asyncio.Event(), asyncio.Event()

    async def work(click: Click) -> None:
        nonlocal peak
        running.append(1)
        peak = max(peak, len(running))
        await release.wait()
        running.pop()

    listener = acked_first(work, slots=asyncio.Semaphore(1))

    async def click(number: int) -> None:
        async def ack(*_args: Any, **_kwargs: Any) -> None:
            acked.append(number)
            if len(acked) == 5:
                all_acked.set()

        body = {"user": {"id": "U0ALICE"}, "trigger_id": "t"}
        await listener(ack, body, {"value": f"hof_{number}"}, {}, None, None)

    clicks = [asyncio.create_task(click(number)) for number in range(5)]
    await asyncio.wait_for(all_acked.wait(), timeout=5)
    assert sorted(acked) == [0, 1, 2, 3, 4]
    assert len(running) == 1
    release.set()
    await asyncio.gather(*clicks)
    assert peak == 1
