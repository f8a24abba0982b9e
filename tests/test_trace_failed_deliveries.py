"""A delivery Slack refused for good is part of its run's story: API, ``handrail trace``, /trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli.trace_text import render_trace
from tests.command_harness import command, running_commands, text_of
from tests.conftest import Database
from tests.slack_harness import REVIEW_CHANNEL, Slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig
from workflows.ledger.story import read_run_story

ERROR = f"msg_too_long from chat.postMessage to {REVIEW_CHANNEL}"


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_commands(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def refused_review(slack: Slack, clock: ManualClock) -> tuple[str, str]:
    """A review whose message Slack refuses with msg_too_long 30 s after it was queued."""
    run_id, handoff_id = await slack.open_review()
    slack.emulator.inject("chat.postMessage", "msg_too_long")
    clock.advance(seconds=30)
    await slack.deliver()
    return run_id, handoff_id


async def test_the_api_story_lists_the_failed_post(slack: Slack, clock: ManualClock) -> None:
    """GET /api/v1/runs/{id} names the refused post: kind, channel, Slack's error, when."""
    run_id, handoff_id = await refused_review(slack, clock)

    story = await slack.get_run(run_id)

    assert story["failed_deliveries"] == [
        {
            "handoff_id": handoff_id,
            "kind": "slack.post",
            "message": "handoff",
            "target": REVIEW_CHANNEL,
            "error": ERROR,
            "attempts": 1,
            "queued_at": "2026-01-05T09:00:00+00:00",
            "failed_at": "2026-01-05T09:00:30+00:00",
        }
    ]


async def test_another_runs_story_lists_none(slack: Slack, clock: ManualClock) -> None:
    """A run whose messages went out has no failed deliveries, whatever failed for others."""
    await refused_review(slack, clock)
    delivered_run, _ = await slack.open_review()
    await slack.deliver()

    assert (await slack.get_run(delivered_run))["failed_deliveries"] == []


async def test_the_terminal_trace_shows_the_failed_post(slack: Slack, clock: ManualClock) -> None:
    """``handrail trace`` ends with the refused post and Slack's full error."""
    run_id, handoff_id = await refused_review(slack, clock)

    async with slack.services.readers() as db:
        text = render_trace(await read_run_story(db, run_id=run_id))

    assert text.endswith(
        "Failed deliveries (1)\n"
        f"  slack.post handoff to {REVIEW_CHANNEL}  (handoff {handoff_id})\n"
        "    failed 2026-01-05 09:00:30 UTC after 1 attempt; queued 2026-01-05 09:00:00 UTC\n"
        f"    {ERROR}\n"
    )


async def test_the_slack_trace_shows_the_failed_post(slack: Slack, clock: ManualClock) -> None:
    """A reviewer's /trace says the handoff's message failed, with Slack's error."""
    run_id, handoff_id = await refused_review(slack, clock)

    answer: dict[str, Any] = await command(slack, "/trace", run_id, user="U0ALICE")

    story = text_of(answer)
    assert "*1 failed delivery* (given up, not retried)" in story
    assert (
        f"• `slack.post` handoff to `{REVIEW_CHANNEL}` for `{handoff_id}` · failed "
        "<!date^1767603630^{date_short_pretty} {time}|2026-01-05 09:00 UTC> after 1 attempt\n"
        f"      {ERROR}"
    ) in story
