"""Shutdown lets the Slack listeners bolt left running finish before the engine closes."""

from __future__ import annotations

import asyncio

from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.listener_tasks import ListenerTasks

REQUEST = AsyncBoltRequest(body="payload={}", headers={})


async def listener(tasks: ListenerTasks, work: float, done: list[str]) -> None:
    """What bolt's detached task does: the start handler, then the listener's work."""
    await tasks.handle(REQUEST, None)
    try:
        await asyncio.sleep(work)
        done.append("finished")
    except asyncio.CancelledError:
        done.append("cancelled")
        raise


async def test_drain_waits_for_a_listener_still_at_work() -> None:
    """A listener running when clean-up starts finishes its work before drain returns."""
    tasks, done = ListenerTasks(), list[str]()
    task = asyncio.create_task(listener(tasks, 0.05, done))
    await asyncio.sleep(0)
    await tasks.drain(within=5)
    assert done == ["finished"]
    assert task.done()


async def test_drain_cancels_a_listener_that_outlasts_the_bound() -> None:
    """A listener still at work after the bound is cancelled, and has ended when drain returns."""
    tasks, done = ListenerTasks(), list[str]()
    task = asyncio.create_task(listener(tasks, 60, done))
    await asyncio.sleep(0)
    await tasks.drain(within=0.01)
    assert done == ["cancelled"]
    assert task.done()
