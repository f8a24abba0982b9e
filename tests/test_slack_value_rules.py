"""What people type in Slack follows the API's value rules: a NUL is kept as U+FFFD."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId, BlockId, InputId
from store.models import Workflow
from tests.command_harness import command, running_commands, text_of
from tests.conftest import Database
from tests.slack_harness import Slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_commands(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def test_slash_pause_with_a_nul_in_its_reason_pauses(slack: Slack) -> None:
    """``/pause`` whose reason holds a NUL pauses the workflow and says so."""
    answer = await command(slack, "/pause", "ticket-triage bad\u0000drafts", user="U0ALICE")
    async with slack.services.readers() as db:
        row = await db.get(Workflow, "ticket-triage")
    assert "ticket-triage paused." in text_of(answer)
    assert row is not None
    assert (row.paused_at is not None, row.paused_reason) == (True, "bad\ufffddrafts")


async def test_an_edit_with_a_nul_is_recorded(slack: Slack) -> None:
    """An edited draft holding a NUL is recorded, the NUL kept as U+FFFD."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: "Hi\u0000Sam"}},
    )
    assert (response.status, response.text) == (200, "")
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.final_text) == ("edited", "Hi\ufffdSam")


async def test_a_reject_reason_with_a_nul_is_recorded(slack: Slack) -> None:
    """A reject reason holding a NUL is recorded, the NUL kept as U+FFFD."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "wrong\u0000tone"}},
    )
    assert (response.status, response.text) == (200, "")
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.reason) == ("rejected", "wrong\ufffdtone")


async def test_a_reject_reason_with_a_lone_surrogate_is_recorded(slack: Slack) -> None:
    """A reject reason holding a lone surrogate (valid JSON, not UTF-8) is kept as U+FFFD."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "wrong\ud800tone"}},
    )
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.reason) == ("rejected", "wrong\ufffdtone")


async def test_a_click_naming_a_lone_surrogate_is_an_unknown_handoff(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    """A click whose value is a lone surrogate is told the handoff is unknown; no error logged."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.driver.click(
        action_id=ActionId.HANDOFF_APPROVE,
        user="U0ALICE",
        channel="C0REVIEW",
        message_ts=ts,
        value="\ud800",
    )
    answer = await slack.ephemeral_to("U0ALICE")
    assert "\ufffd" in answer.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
