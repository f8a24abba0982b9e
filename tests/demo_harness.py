"""``handrail demo`` played against the real app, with Slack as the emulator and signed clicks.

The demo runs as a task beside the test, against the app's real port, with the example
workflows and a timing that never makes it sleep. The test decides its handoffs as a
person would (``tests.slack_harness``) and reads what it said from ``lines``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bot.demo.context import DemoTiming
from bot.demo.runner import run_demo
from store.models import Handoff
from tests.slack_harness import Slack, eventually
from workflows.config.brief import HandrailConfig, load_config

EXAMPLE = Path(__file__).parent.parent / "workflows.example.yml"
TAG = "t1"
#: No pause between the model's attempts and a quick look for a resumed job.
FAST = DemoTiming(wait=20.0, retry_pause=0.0, poll=0.01)


def example_config() -> HandrailConfig:
    return load_config(EXAMPLE)


@dataclass
class PlayingDemo:
    slack: Slack
    task: asyncio.Task[int]
    lines: list[str] = field(default_factory=list)

    async def handoff(self, ticket: str, *, kind: str | None = None) -> Handoff:
        """The handoff the demo opened for ``ticket`` (of ``kind``), once it is there."""
        run_id = f"{ticket}-{TAG}"
        query = select(Handoff).where(Handoff.run_id == run_id)
        if kind is not None:
            query = query.where(Handoff.kind == kind)

        async def probe() -> Handoff | None:
            async with self.slack.services.readers() as db:
                found: Handoff | None = await db.scalar(query)
                return found

        return await eventually(probe, what=f"a handoff for {run_id}", tries=2000)

    async def finished(self) -> list[str]:
        """Every line the demo said, once it has ended."""
        assert await asyncio.wait_for(self.task, timeout=30) == 0
        return self.lines

    def said(self, scenario: str) -> list[str]:
        prefix = f"[{scenario}] "
        return [line.removeprefix(prefix) for line in self.lines if line.startswith(prefix)]


@asynccontextmanager
async def playing(
    slack: Slack, *scenarios: str, once: bool = False, timing: DemoTiming = FAST
) -> AsyncIterator[PlayingDemo]:
    """The demo playing ``scenarios`` against ``slack``'s app; stopped if the test fails."""
    lines: list[str] = []
    task = asyncio.create_task(
        run_demo(
            slack.services,
            url=str(slack.api.make_url("")),
            scenarios=scenarios,
            once=once,
            timing=timing,
            say=lines.append,
            tag=TAG,
        )
    )
    try:
        yield PlayingDemo(slack, task, lines)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
