"""The first decision wins in the order people acted: an acknowledged click is never overtaken."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId, BlockId, InputId
from sandbox.models import View
from tests.conftest import Database
from tests.slack_harness import Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

HANDOFFS = 30


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def reject_modals(slack: Slack, messages: dict[str, str], user: str) -> dict[str, View]:
    """``user`` opens the Reject modal on every handoff; handoff ID → its open modal."""
    for ts, handoff_id in messages.items():
        await slack.click(ActionId.HANDOFF_REJECT, handoff_id, user=user, ts=ts)
        await slack.opened_view(user)
    return {
        view.private_metadata: view
        for view in slack.emulator.views
        if view.user == user and not view.closed
    }


async def test_acknowledged_approvals_win_over_later_rejections(slack: Slack) -> None:
    """30 Approve clicks acknowledged before 30 Reject submissions: every handoff is approved."""
    messages: dict[str, str] = {}
    for _ in range(HANDOFFS):
        _, handoff_id = await slack.open_review()
        messages[await slack.post_message(handoff_id)] = handoff_id
    modals = await reject_modals(slack, messages, "U0BOB")
    clicks = await asyncio.gather(
        *(
            slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
            for ts, handoff_id in messages.items()
        )
    )
    assert {click.status for click in clicks} == {200}
    submissions = await asyncio.gather(
        *(
            slack.driver.submit_view(
                user="U0BOB",
                view_id=modal.id,
                state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "Wrong customer"}},
            )
            for modal in modals.values()
        )
    )
    for submission in submissions:
        answer = submission.json()
        assert answer is not None, "a Reject overtook an acknowledged Approve"
        error = answer["errors"][BlockId.REJECT_REASON]
        assert error.startswith("Already approved by @U0ALICE at"), error
    for handoff_id in messages.values():
        decision = await slack.decided(handoff_id)
        assert (decision.outcome, decision.reviewer) == ("approved", "U0ALICE")
