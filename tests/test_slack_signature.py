"""Only requests signed by Slack, within five minutes, reach a handler; the rest get 401."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId, CallbackId
from sandbox.driver import Tamper
from tests.conftest import Database, bearer
from tests.slack_harness import REVIEW_CHANNEL, Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


@pytest.mark.parametrize(
    "tamper", ["bad_signature", "stale_timestamp", "no_signature", "garbled_timestamp"]
)
async def test_an_unsigned_click_gets_401(slack: Slack, tamper: Tamper) -> None:
    """A forged, ten-minute-old or unsigned click is refused with 401."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    response = await slack.driver.click(
        action_id=ActionId.HANDOFF_APPROVE,
        user="U0ALICE",
        channel=REVIEW_CHANNEL,
        message_ts=ts,
        tamper=tamper,
    )
    assert response.status == 401


async def test_a_forged_click_records_nothing(slack: Slack) -> None:
    """A click with a wrong signature leaves the handoff pending and tells nobody anything."""
    run_id, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.driver.click(
        action_id=ActionId.HANDOFF_APPROVE,
        user="U0ALICE",
        channel=REVIEW_CHANNEL,
        message_ts=ts,
        tamper="bad_signature",
    )
    assert await slack.decision_count() == 0
    assert (await slack.get_run(run_id))["handoffs"][0]["status"] == "pending"
    assert slack.emulator.responses == []


async def test_a_stale_submission_records_nothing(slack: Slack) -> None:
    """A replayed modal submission, ten minutes old, is refused and records nothing."""
    _, handoff_id = await slack.open_review()
    response = await slack.driver.submit_view(
        user="U0ALICE",
        callback_id=CallbackId.HANDOFF_REJECT_SUBMIT,
        private_metadata=handoff_id,
        state_values={"reject-reason": {"reject-reason": "replayed"}},
        tamper="stale_timestamp",
    )
    assert response.status == 401
    assert await slack.decision_count() == 0


@pytest.mark.parametrize("tamper", ["bad_signature", "garbled_timestamp"])
async def test_an_unsigned_command_is_neither_answered_nor_followed(
    slack: Slack, tamper: Tamper
) -> None:
    """An unsigned /pause gets 401: nothing is paused and its response_url is never posted to,
    so a forged body cannot make Handrail call an address of the forger's choosing."""
    response = await slack.driver.command(
        "/pause", "ticket-triage forged", user="U0ALICE", channel=REVIEW_CHANNEL, tamper=tamper
    )
    assert response.status == 401
    assert slack.emulator.responses == []
    answer = await slack.api.post(
        f"/api/v1/runs/{await slack.start_run()}/gate",
        json={"action": "tag", "confidence": 0.99},
        headers=bearer(slack.token),
    )
    assert (await answer.json())["verdict"] != "deny"
