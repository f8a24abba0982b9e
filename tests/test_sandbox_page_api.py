"""The sandbox page server's JSON API and event stream, against the real Handrail app.

What a person sees (state), what is pushed to them (SSE), and what they do (clicks,
submissions, commands) reaching Handrail signed as Slack signs it; and every refusal the
page server makes itself, with nothing sent and nothing half-applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId, BlockId, InputId
from sandbox.models import Message
from tests.conftest import Database
from tests.sandbox_page_harness import STRANGER, Sandbox, next_event, running_sandbox
from tests.slack_harness import REVIEW_CHANNEL
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@pytest.fixture
async def sandbox(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Sandbox]:
    async with running_sandbox(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def posted_handoff(sandbox: Sandbox) -> tuple[str, str]:
    """A review handoff whose message the outbox worker has posted: (handoff ID, ts)."""
    _, handoff_id = await sandbox.slack.open_review()
    return handoff_id, await sandbox.slack.post_message(handoff_id)


async def test_state_lists_the_review_and_alert_channels_and_the_persons_own_dm(
    sandbox: Sandbox,
) -> None:
    """A person sees the workflows' channels, labelled, and only their own DM with the bot."""
    sandbox.slack.emulator.workspace.open_dm("U0ALICE")
    sandbox.slack.emulator.workspace.open_dm("U0BOB")
    state = await sandbox.state("U0ALICE")
    channels = {c["id"]: c for c in state["channels"]}
    assert channels["C0REVIEW"]["purposes"] == [
        "review: ticket-triage",
        "review: invoice-extraction",
    ]
    assert channels["C0ONCALL"]["purposes"] == ["alerts: ticket-triage"]
    assert "D0ALICE" in channels
    assert "D0BOB" not in channels


async def test_the_user_switcher_lists_everyone_with_their_roles(sandbox: Sandbox) -> None:
    """Every person workflows.yml names is listed with their roles, plus a stranger with none."""
    people = {p["id"]: p["roles"] for p in (await sandbox.state("U0BOB"))["people"]}
    assert people["U0ALICE"] == [
        "reviewer of ticket-triage",
        "on-call for ticket-triage",
        "reviewer of invoice-extraction",
    ]
    assert people["U0OWNER"] == [
        "admin of ticket-triage",
        "owner of ticket-triage",
        "admin of invoice-extraction",
    ]
    assert people[STRANGER] == []


async def test_a_posted_handoff_is_pushed_to_an_open_page(sandbox: Sandbox) -> None:
    """When the outbox posts a handoff, the open page's stream receives the message."""
    stream = await sandbox.page.get("/api/stream", params={"user": "U0BOB"})
    assert await next_event(stream) == ("ready", {"user": "U0BOB"})
    _, ts = await posted_handoff(sandbox)
    name, message = await next_event(stream)
    assert (name, message["channel"], message["ts"]) == ("message", REVIEW_CHANNEL, ts)
    assert any(block["type"] == "actions" for block in message["blocks"])
    stream.close()


async def test_an_approve_click_is_recorded_and_the_update_is_pushed(sandbox: Sandbox) -> None:
    """Approve from the page reaches Handrail signed; the updated message is pushed."""
    handoff_id, ts = await posted_handoff(sandbox)
    stream = await sandbox.page.get("/api/stream", params={"user": "U0ALICE"})
    await next_event(stream)
    status, answer = await sandbox.act(
        "click", user="U0ALICE", channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_APPROVE
    )
    assert (status, answer) == (200, {"ok": True})
    decision = await sandbox.slack.decided(handoff_id)
    assert decision.reviewer == "U0ALICE"
    await sandbox.slack.deliver()
    name, message = await next_event(stream)
    while message.get("ts") != ts:  # the thread reply may come first
        name, message = await next_event(stream)
    assert name == "message"
    assert message["updates"] == 1
    assert not any(block["type"] == "actions" for block in message["blocks"])
    stream.close()


async def test_a_strangers_click_is_answered_privately_and_changes_nothing(
    sandbox: Sandbox,
) -> None:
    """A stranger's Approve is refused by Handrail with an ephemeral only they receive."""
    handoff_id, ts = await posted_handoff(sandbox)
    status, _ = await sandbox.act(
        "click", user=STRANGER, channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_APPROVE
    )
    assert status == 200
    notice = await sandbox.slack.ephemeral_to(STRANGER)
    assert notice.text.startswith("Permission denied")
    assert [e["text"] for e in (await sandbox.state(STRANGER))["ephemerals"]] == [notice.text]
    assert (await sandbox.state("U0ALICE"))["ephemerals"] == []
    assert await sandbox.slack.decision(handoff_id) is None


async def test_a_click_on_a_deleted_message_is_refused_and_not_sent(sandbox: Sandbox) -> None:
    """A click on a message deleted since the page drew it is refused; Handrail hears nothing."""
    handoff_id, ts = await posted_handoff(sandbox)
    sandbox.slack.emulator.workspace.delete_message(REVIEW_CHANNEL, ts)
    status, answer = await sandbox.act(
        "click", user="U0ALICE", channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_APPROVE
    )
    assert status == 409
    assert "deleted or changed since you saw it" in answer["error"]
    assert await sandbox.slack.decision(handoff_id) is None


async def test_a_click_on_a_button_an_update_removed_is_refused(sandbox: Sandbox) -> None:
    """A click on Approve after the message lost its buttons is refused by the page server."""
    handoff_id, ts = await posted_handoff(sandbox)
    message: Message = sandbox.slack.emulator.message(REVIEW_CHANNEL, ts)
    message.blocks = [b for b in message.blocks if b["type"] != "actions"]
    status, answer = await sandbox.act(
        "click", user="U0BOB", channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_APPROVE
    )
    assert status == 409
    assert answer["ok"] is False
    assert await sandbox.slack.decision(handoff_id) is None


async def open_edit_modal(sandbox: Sandbox, user: str = "U0ALICE") -> str:
    _, ts = await posted_handoff(sandbox)
    await sandbox.act(
        "click", user=user, channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_EDIT
    )
    await sandbox.slack.opened_view(user)
    modal = (await sandbox.state(user))["modal"]
    assert modal is not None
    return str(modal["id"])


async def test_the_edit_modal_is_the_persons_alone(sandbox: Sandbox) -> None:
    """The modal Edit opened is in the clicker's state and nobody else's."""
    view_id = await open_edit_modal(sandbox)
    assert (await sandbox.state("U0ALICE"))["modal"]["view"]["id"] == view_id
    assert (await sandbox.state("U0BOB"))["modal"] is None


async def test_an_edit_submission_closes_the_modal_and_records_the_text(
    sandbox: Sandbox,
) -> None:
    """Submitting the Edit modal records the edited text and closes it for the person."""
    view_id = await open_edit_modal(sandbox)
    values = {BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: {"type": "plain_text_input", "value": "Hi"}}}
    status, answer = await sandbox.act("submit", user="U0ALICE", view_id=view_id, values=values)
    assert (status, answer["response_action"]) == (200, None)
    assert (await sandbox.state("U0ALICE"))["modal"] is None


async def test_a_modal_submitted_twice_is_sent_once(sandbox: Sandbox) -> None:
    """Two Submit clicks at once: one reaches Handrail, the other is refused with a reason."""
    view_id = await open_edit_modal(sandbox)
    values = {BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: "Hello"}}
    first, second = await asyncio.gather(
        sandbox.act("submit", user="U0ALICE", view_id=view_id, values=values),
        sandbox.act("submit", user="U0ALICE", view_id=view_id, values=values),
    )
    assert sorted([first[0], second[0]]) == [200, 409]
    assert "already submitted" in min(first, second, key=lambda r: -r[0])[1]["error"]
    assert len(sandbox.slack.emulator.calls_to("views.open")) == 1
    assert await sandbox.slack.decision_count() == 1


async def test_an_empty_reject_reason_comes_back_as_a_field_error(sandbox: Sandbox) -> None:
    """Reject without a reason: Handrail's errors answer is returned and the modal stays."""
    _, ts = await posted_handoff(sandbox)
    await sandbox.act(
        "click", user="U0BOB", channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_REJECT
    )
    await sandbox.slack.opened_view("U0BOB")
    view_id = (await sandbox.state("U0BOB"))["modal"]["id"]
    values = {BlockId.REJECT_REASON: {InputId.REJECT_REASON: "   "}}
    status, answer = await sandbox.act("submit", user="U0BOB", view_id=view_id, values=values)
    assert (status, answer["response_action"]) == (200, "errors")
    assert BlockId.REJECT_REASON in answer["errors"]
    assert (await sandbox.state("U0BOB"))["modal"]["id"] == view_id
    assert await sandbox.slack.decision_count() == 0


async def test_trace_is_answered_to_the_asking_person_only(sandbox: Sandbox) -> None:
    """/trace RUN_ID from the page is answered with an ephemeral the others never see."""
    run_id = await sandbox.slack.start_run()
    status, _ = await sandbox.act(
        "command", user="U0ALICE", channel=REVIEW_CHANNEL, text=f"/trace {run_id}"
    )
    assert status == 200
    answer = await sandbox.slack.ephemeral_to("U0ALICE")
    assert run_id in answer.text + str(answer.blocks)
    assert (await sandbox.state("U0BOB"))["ephemerals"] == []


@pytest.mark.parametrize("text", ["x" * 10_000, "bad\x00\x07\x1b[31mrun"])
async def test_a_huge_or_garbled_trace_gets_a_private_answer(sandbox: Sandbox, text: str) -> None:
    """/trace with 10,000 characters or control characters is answered, privately."""
    status, _ = await sandbox.act(
        "command", user="U0ALICE", channel=REVIEW_CHANNEL, text=f"/trace {text}"
    )
    assert status == 200
    answer = await sandbox.slack.ephemeral_to("U0ALICE")
    assert answer.text


async def test_an_unknown_command_is_refused_by_the_page(sandbox: Sandbox) -> None:
    """A command Handrail does not offer is refused with the list of those it does."""
    status, answer = await sandbox.act(
        "command", user="U0ALICE", channel=REVIEW_CHANNEL, text="/deploy now"
    )
    assert status == 400
    assert "/trace" in answer["error"]
    assert sandbox.slack.emulator.ephemerals == []


async def test_a_command_longer_than_slack_takes_is_refused(sandbox: Sandbox) -> None:
    """More than Slack's 40,000 characters is refused with the count, and not sent."""
    status, answer = await sandbox.act(
        "command", user="U0ALICE", channel=REVIEW_CHANNEL, text="/trace " + "x" * 40_000
    )
    assert status == 400
    assert "40,007 characters" in answer["error"]


async def test_plain_text_is_posted_as_the_person(sandbox: Sandbox) -> None:
    """Text without a slash is a message in the channel, written by the person."""
    status, answer = await sandbox.act(
        "post", user="U0BOB", channel=REVIEW_CHANNEL, text="looking at it"
    )
    assert status == 200
    message = sandbox.slack.emulator.message(REVIEW_CHANNEL, answer["ts"])
    assert (message.user, message.text) == ("U0BOB", "looking at it")


async def test_an_error_from_handrail_is_shown_and_nothing_is_recorded(
    sandbox: Sandbox,
) -> None:
    """A request Handrail refuses (here: a wrong signature) comes back as a visible error."""
    handoff_id, ts = await posted_handoff(sandbox)
    sandbox.slack.driver.signing_secret = "not-the-secret"
    status, answer = await sandbox.act(
        "click", user="U0ALICE", channel=REVIEW_CHANNEL, ts=ts, action_id=ActionId.HANDOFF_APPROVE
    )
    assert status == 502
    assert "HTTP 401" in answer["error"]
    assert await sandbox.slack.decision(handoff_id) is None


async def test_a_write_from_another_origin_is_refused(sandbox: Sandbox) -> None:
    """Another site cannot act through the page server: a foreign Origin is refused."""
    response = await sandbox.page.post(
        "/api/post",
        json={"user": "U0BOB", "channel": REVIEW_CHANNEL, "text": "hi"},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status == 415
    assert sandbox.slack.emulator.messages(REVIEW_CHANNEL) == []


async def test_an_unknown_person_is_refused(sandbox: Sandbox) -> None:
    """Acting as someone the workspace does not know is refused before anything is sent."""
    status, answer = await sandbox.act(
        "command", user="U0NOBODY", channel=REVIEW_CHANNEL, text="/pause all"
    )
    assert status == 400
    assert "unknown user" in answer["error"]


async def test_an_ephemeral_is_pushed_only_to_its_person(sandbox: Sandbox) -> None:
    """An ephemeral reply reaches its person's stream; another person's stream skips it."""
    bob = await sandbox.page.get("/api/stream", params={"user": "U0BOB"})
    alice = await sandbox.page.get("/api/stream", params={"user": "U0ALICE"})
    await next_event(bob)
    await next_event(alice)
    await sandbox.act("command", user="U0ALICE", channel=REVIEW_CHANNEL, text="/trace nope")
    name, data = await next_event(alice)
    assert (name, data["user"]) == ("ephemeral", "U0ALICE")
    sandbox.slack.emulator.post_as_user(REVIEW_CHANNEL, "U0OWNER", "marker")
    name, data = await next_event(bob)
    assert (name, data["text"]) == ("message", "marker")
    bob.close()
    alice.close()


async def test_a_modal_is_pushed_to_its_person_and_its_closing_too(sandbox: Sandbox) -> None:
    """Edit's modal reaches the clicker's stream when opened, and null when it closes."""
    alice = await sandbox.page.get("/api/stream", params={"user": "U0ALICE"})
    await next_event(alice)
    view_id = await open_edit_modal(sandbox)
    name, data = await next_event(alice)
    while name != "modal":  # the handoff's own message comes first
        name, data = await next_event(alice)
    assert data["modal"]["id"] == view_id
    await sandbox.act("close", user="U0ALICE", view_id=view_id)
    assert await next_event(alice) == ("modal", {"modal": None})
    alice.close()
