"""Two reviewers clicking at once: the database picks one decision, the other is told who won."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId
from sandbox.models import ResponsePost
from tests.conftest import Database
from tests.slack_harness import Slack, eventually, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

HANDOFFS = 100
REVIEWERS = ("U0ALICE", "U0BOB")


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def test_simultaneous_approvals_record_one_decision_each(slack: Slack) -> None:
    """100 handoffs each clicked by two reviewers at once: one decision, one loser told why."""
    messages: dict[str, str] = {}
    for _ in range(HANDOFFS):
        _, handoff_id = await slack.open_review()
        messages[await slack.post_message(handoff_id)] = handoff_id
    responses = await asyncio.gather(
        *(
            slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user=user, ts=ts)
            for ts, handoff_id in messages.items()
            for user in REVIEWERS
        )
    )
    assert {response.status for response in responses} == {200}

    async def all_told() -> list[ResponsePost] | None:
        posts = slack.emulator.responses
        return posts if len(posts) >= HANDOFFS else None

    async def all_recorded() -> bool | None:
        return await slack.decision_count() == HANDOFFS or None

    posts = await eventually(all_told, what=f"{HANDOFFS} ephemeral refusals", tries=3000)
    await eventually(all_recorded, what=f"{HANDOFFS} decisions", tries=3000)
    for post in posts:
        decision = await slack.decision(messages[str(post.message_ts)])
        assert decision is not None
        assert post.user != decision.reviewer
        assert post.body["text"].startswith(f"Already approved by <@{decision.reviewer}> at")
    assert len({post.message_ts for post in posts}) == HANDOFFS
