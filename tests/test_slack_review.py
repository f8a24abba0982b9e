"""Reviewing a handoff in Slack, end to end: signed clicks in, decisions recorded, replies out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.ids import ActionId, BlockId, CallbackId, InputId
from store.models import OutboxMessage
from tests.conftest import Database, bearer
from tests.slack_harness import DRAFT, REVIEW_CHANNEL, Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig
from workflows.review.decisions import edit_diff

EDITED = "Hi Sam,\nyour refund of 20 EUR was sent today.\nBest, Support"


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def test_approve_is_recorded_in_the_run(slack: Slack) -> None:
    """An Approve click by a reviewer is acknowledged and recorded against the run."""
    run_id, handoff_id = await slack.open_review()
    response = await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE")
    assert (response.status, response.text) == (200, "")
    await slack.decided(handoff_id)
    [handoff] = (await slack.get_run(run_id))["handoffs"]
    assert handoff["status"] == "approved"
    assert handoff["decision"]["reviewer"] == "U0ALICE"
    assert handoff["decision"]["final_text"] == DRAFT


async def test_approve_answers_the_long_poll(slack: Slack) -> None:
    """An automation long-polling the handoff gets the approval once it is recorded."""
    _, handoff_id = await slack.open_review()
    poll = asyncio.create_task(
        slack.api.get(f"/api/v1/handoffs/{handoff_id}?wait=10", headers=bearer(slack.token))
    )
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB")
    body = await (await poll).json()
    assert body["status"] == "approved"
    assert body["decision"]["reviewer"] == "U0BOB"


async def test_approve_leaves_the_slack_writes_to_the_outbox(slack: Slack) -> None:
    """The message update and the thread reply are queued in the outbox, not sent directly."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id)
    await slack.decided(handoff_id)
    async with slack.services.readers() as db:
        keys = set((await db.scalars(select(OutboxMessage.dedupe_key))).all())
    assert {f"handoff:{handoff_id}:update:decided", f"handoff:{handoff_id}:decision-reply"} <= keys
    assert slack.emulator.calls_to("chat.update") == []


async def test_the_worker_then_updates_the_message_and_replies_in_its_thread(
    slack: Slack,
) -> None:
    """After an approval the outbox worker takes the buttons off and replies in the thread."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, ts=ts)
    await slack.decided(handoff_id)
    await slack.deliver()
    message = slack.emulator.message(REVIEW_CHANNEL, ts)
    assert [block for block in message.blocks if block["type"] == "actions"] == []
    assert "Approved by <@U0ALICE> at <!date^1767603600^{time}|09:00 UTC>" in str(message.blocks)
    [reply] = [m for m in slack.emulator.messages(REVIEW_CHANNEL) if m.thread_ts == ts]
    assert "<@U0ALICE>" in reply.text


async def test_a_second_click_is_told_who_decided(slack: Slack) -> None:
    """A click after the decision changes nothing and says who decided and when."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
    await slack.decided(handoff_id)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB", ts=ts)
    notice = await slack.ephemeral_to("U0BOB")
    assert notice.text == "Already approved by <@U0ALICE> at 09:00 UTC; nothing was changed"
    assert await slack.decision_count() == 1


async def test_edit_opens_a_modal_prefilled_with_the_draft(slack: Slack) -> None:
    """Edit opens the Edit modal with views.open, the click's trigger_id and the draft."""
    _, handoff_id = await slack.open_review()
    response = await slack.click(ActionId.HANDOFF_EDIT, handoff_id)
    await slack.opened_view("U0ALICE")
    [call] = slack.emulator.calls_to("views.open")
    assert call.body["trigger_id"] == response.trigger_id
    view = call.body["view"]
    assert view["callback_id"] == CallbackId.HANDOFF_EDIT_SUBMIT
    assert view["private_metadata"] == handoff_id
    [box] = [block for block in view["blocks"] if block.get("block_id") == BlockId.EDIT_TEXT]
    assert box["element"]["initial_value"] == DRAFT


async def test_edit_submission_records_the_text_and_its_diff(slack: Slack) -> None:
    """Submitting the Edit modal records the edited text and its diff, and closes the modal."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: EDITED}},
    )
    assert (response.status, response.text) == (200, "")
    decision = await slack.decision(handoff_id)
    assert decision is not None
    assert (decision.outcome, decision.final_text) == ("edited", EDITED)
    assert decision.diff == edit_diff(DRAFT, EDITED)
    assert slack.emulator.view(modal.id).closed


async def test_an_empty_edit_is_refused_on_its_field(slack: Slack) -> None:
    """An edit emptied to blanks keeps the modal open with an error under the text box."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    response = await slack.driver.submit_view(
        user="U0ALICE", view_id=modal.id, state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: " "}}
    )
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [BlockId.EDIT_TEXT]
    assert not slack.emulator.view(modal.id).closed
    assert await slack.decision(handoff_id) is None


async def test_reject_opens_a_modal_asking_why(slack: Slack) -> None:
    """Reject opens the Reject modal for the clicked handoff."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id, user="U0BOB")
    modal = await slack.opened_view("U0BOB")
    assert (modal.callback_id, modal.private_metadata) == (
        CallbackId.HANDOFF_REJECT_SUBMIT,
        handoff_id,
    )


async def test_a_reject_without_a_reason_is_refused_on_its_field(slack: Slack) -> None:
    """Rejecting with no reason keeps the modal open with an error under the reason."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: ""}},
    )
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [BlockId.REJECT_REASON]
    assert await slack.decision(handoff_id) is None


async def test_a_reject_reason_over_500_characters_is_refused(slack: Slack) -> None:
    """A reason longer than 500 characters is refused on its field, not cut silently."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "x" * 501}},
    )
    assert "500" in response.json()["errors"][BlockId.REJECT_REASON]
    assert await slack.decision(handoff_id) is None


async def test_reject_records_the_reason_and_category(slack: Slack) -> None:
    """Submitting the Reject modal records the reason and the chosen category."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={
            BlockId.REJECT_REASON: {InputId.REJECT_REASON: "Quotes last year's refund policy"},
            BlockId.REJECT_CATEGORY: {InputId.REJECT_CATEGORY: "policy"},
        },
    )
    decision = await slack.decision(handoff_id)
    assert decision is not None
    assert (decision.outcome, decision.reason, decision.category) == (
        "rejected",
        "Quotes last year's refund policy",
        "policy",
    )


async def test_reject_without_a_category_is_recorded(slack: Slack) -> None:
    """The category is optional: a rejection without one is recorded with none."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "Wrong customer"}},
    )
    decision = await slack.decision(handoff_id)
    assert decision is not None
    assert (decision.reason, decision.category) == ("Wrong customer", None)


async def test_edit_on_a_decided_handoff_opens_nothing(slack: Slack) -> None:
    """Edit on an already decided handoff says who decided instead of opening a modal."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
    await slack.decided(handoff_id)
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id, user="U0BOB", ts=ts)
    notice = await slack.ephemeral_to("U0BOB")
    assert notice.text.startswith("Already approved by <@U0ALICE>")
    assert slack.emulator.calls_to("views.open") == []


async def test_a_submission_after_someone_else_decided_changes_nothing(slack: Slack) -> None:
    """An Edit submitted after another reviewer approved shows who decided, under the field."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id, user="U0BOB", ts=ts)
    modal = await slack.opened_view("U0BOB")
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
    await slack.decided(handoff_id)
    response = await slack.driver.submit_view(
        user="U0BOB",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: EDITED}},
    )
    error = response.json()["errors"][BlockId.EDIT_TEXT]
    assert error == "Already approved by @U0ALICE at 09:00 UTC; nothing was changed"
    decision = await slack.decision(handoff_id)
    assert decision is not None
    assert (decision.outcome, decision.reviewer) == ("approved", "U0ALICE")


async def open_draft(slack: Slack) -> tuple[str, str]:
    """A run in review mode whose ``tag`` with a draft goes to review as a draft."""
    run_id = await slack.start_run()
    response = await slack.api.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "tag", "draft": "Tagged as billing.", "confidence": 0.95},
        headers=bearer(slack.token),
    )
    body = await response.json()
    assert body["verdict"] == "review", body
    return run_id, str(body["handoff_id"])


@pytest.mark.parametrize(
    ("action_id", "outcome"),
    [(ActionId.HANDOFF_RETRY, "retry_requested"), (ActionId.HANDOFF_TAKE_OVER, "taken_over")],
)
async def test_a_forged_tool_failure_click_on_a_draft_is_refused(
    slack: Slack, action_id: ActionId, outcome: str
) -> None:
    """Retry or I'll handle it, sent for a draft whose message has no such button, records
    nothing, leaves the run alone and tells the clicker privately."""
    run_id, handoff_id = await open_draft(slack)
    ts = await slack.post_message(handoff_id)
    sent = await slack.driver.click(
        action_id=action_id,
        user="U0BOB",
        channel=REVIEW_CHANNEL,
        message_ts=ts,
        value=handoff_id,
        block_id="forged",
    )
    assert sent.status == 200
    notice = await slack.ephemeral_to("U0BOB")
    assert notice.text.startswith(f"'{outcome}' is not a decision for a draft handoff")
    assert notice.text.endswith("nothing was recorded")
    assert await slack.decision_count() == 0
    assert (await slack.get_run(run_id))["status"] == "running"
    handoff = await slack.api.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(slack.token))
    assert (await handoff.json())["status"] == "pending"
