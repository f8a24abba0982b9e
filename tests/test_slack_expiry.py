"""Clicks and modal submissions that come after the review timeout: nothing is recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.ids import ActionId, BlockId, InputId
from store.models import Handoff
from tests.callback_receiver import (
    Receiver,
    config_calling_back,
    receiving_callbacks,
    webhook_worker,
)
from tests.conftest import Database
from tests.slack_harness import REVIEW_CHANNEL, Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

#: The test workflows' review timeout is two hours: this is just past it.
PAST_THE_TIMEOUT = {"hours": 2, "seconds": 5}
REFUSAL = "This handoff expired at 11:00 UTC; nothing was recorded"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving_callbacks() as receiver:
        yield receiver


@pytest.fixture
def config(receiver: Receiver) -> HandrailConfig:
    """The test workflows, with ticket-triage's outcomes pushed to the receiver."""
    return config_calling_back(receiver.url)


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def status_of(slack: Slack, handoff_id: str) -> str:
    async with slack.services.readers() as db:
        return str(await db.scalar(select(Handoff.status).where(Handoff.id == handoff_id)))


async def test_a_late_approve_is_refused_and_expires_the_handoff(
    slack: Slack, clock: ManualClock
) -> None:
    """Approve after the timeout records nothing, expires the handoff and says when it expired."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    clock.advance(**PAST_THE_TIMEOUT)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
    notice = await slack.ephemeral_to("U0ALICE")
    assert notice.text == REFUSAL
    assert await slack.decision(handoff_id) is None
    assert await status_of(slack, handoff_id) == "expired"


async def test_a_late_approve_updates_the_message_like_any_expiry(
    slack: Slack, clock: ManualClock
) -> None:
    """The expiry written by a late click takes the buttons off the handoff's message."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    clock.advance(**PAST_THE_TIMEOUT)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, ts=ts)
    await slack.ephemeral_to("U0ALICE")
    await slack.deliver()
    message = slack.emulator.message(REVIEW_CHANNEL, ts)
    assert [block for block in message.blocks if block["type"] == "actions"] == []


async def test_a_late_approve_tells_the_automation_it_expired(
    slack: Slack, clock: ManualClock, receiver: Receiver
) -> None:
    """The callback hears "expired" from a late click, never "approved"."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    clock.advance(**PAST_THE_TIMEOUT)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, ts=ts)
    await slack.ephemeral_to("U0ALICE")
    async with webhook_worker(slack.services.sessions, clock) as worker:
        await worker.run_once()
    [body] = receiver.bodies()
    assert (body["handoff_id"], body["status"], body["decision"]) == (handoff_id, "expired", None)


async def test_a_click_on_an_expired_handoff_says_when_it_expired(
    slack: Slack, clock: ManualClock
) -> None:
    """Once the handoff has expired, a second late click gets the same answer."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    clock.advance(**PAST_THE_TIMEOUT)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
    await slack.ephemeral_to("U0ALICE")
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB", ts=ts)
    notice = await slack.ephemeral_to("U0BOB")
    assert notice.text == REFUSAL
    assert await slack.decision_count() == 0


async def test_a_late_edit_submission_is_refused_on_its_field(
    slack: Slack, clock: ManualClock
) -> None:
    """An Edit modal opened in time but submitted after the timeout records nothing."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    clock.advance(**PAST_THE_TIMEOUT)
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: "Hi Sam, sent today."}},
    )
    assert response.json()["errors"] == {BlockId.EDIT_TEXT: REFUSAL}
    assert await slack.decision(handoff_id) is None
    assert await status_of(slack, handoff_id) == "expired"


async def test_a_late_reject_submission_is_refused_on_its_field(
    slack: Slack, clock: ManualClock
) -> None:
    """A Reject modal submitted after the timeout records nothing and expires the handoff."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id)
    modal = await slack.opened_view("U0ALICE")
    clock.advance(**PAST_THE_TIMEOUT)
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "Wrong customer"}},
    )
    assert response.json()["errors"] == {BlockId.REJECT_REASON: REFUSAL}
    assert await slack.decision(handoff_id) is None
    assert await status_of(slack, handoff_id) == "expired"
