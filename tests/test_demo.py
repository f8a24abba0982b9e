"""``handrail demo`` closes the loop: its handoffs are decided by signed clicks, and it acts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.jobs import alert_tick
from handlers.ids import ActionId, BlockId, InputId
from store.models import Alert, Credential, Event, ParkedJob, Run
from tests.conftest import Database
from tests.demo_harness import TAG, example_config, playing
from tests.slack_harness import REVIEW_CHANNEL, Slack, eventually, running_slack
from workflows.clock import ManualClock
from workflows.parking import mark_resumable

EDITED = "Hi Priya,\nyour refund of 49.00 EUR is on its way.\nBest, Support"


@pytest.fixture
async def slack(database: Database, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=example_config()
    ) as running:
        yield running


async def run_row(slack: Slack, ticket: str) -> Run:
    async with slack.services.readers() as db:
        run = await db.get(Run, f"{ticket}-{TAG}")
        assert run is not None
        return run


async def steps(slack: Slack, ticket: str) -> list[tuple[str, str, str | None]]:
    async with slack.services.readers() as db:
        rows = await db.execute(
            select(Event.type, Event.name, Event.status)
            .where(Event.run_id == f"{ticket}-{TAG}")
            .order_by(Event.seq)
        )
        return [(row.type, row.name, row.status) for row in rows]


async def parked(slack: Slack, ticket: str) -> ParkedJob:
    """The job the demo parked for ``ticket``, once it is there."""

    async def probe() -> ParkedJob | None:
        async with slack.services.readers() as db:
            found: ParkedJob | None = await db.scalar(
                select(ParkedJob).where(ParkedJob.run_id == f"{ticket}-{TAG}")
            )
            return found

    return await eventually(probe, what=f"a parked job for {ticket}", tries=2000)


async def test_an_approved_draft_is_sent_as_written(slack: Slack) -> None:
    """Approve in Slack and the demo says it sent the reply it drafted, word for word."""
    async with playing(slack, "draft-reply") as demo:
        handoff = await demo.handoff("ticket-4812")
        await slack.click(ActionId.HANDOFF_APPROVE, handoff.id)
        await demo.finished()
    [sent] = [line for line in demo.said("draft-reply") if line.startswith("sent")]
    assert sent == (
        "sent the approved reply to ticket-4812: “Hi Sam, your order A-1042 left our warehouse "
        "on Monday and UPS expects to deliver it on Thursday. Best, Support”"
    )
    assert ("action", "send_reply", None) in await steps(slack, "ticket-4812")
    assert (await run_row(slack, "ticket-4812")).status == "succeeded"


async def test_an_edited_draft_is_sent_in_the_reviewers_words(slack: Slack) -> None:
    """Edit in Slack and the demo says it sends the reviewer's text, not its own draft."""
    async with playing(slack, "stop-topic") as demo:
        handoff = await demo.handoff("ticket-4814")
        await slack.click(ActionId.HANDOFF_EDIT, handoff.id)
        modal = await slack.opened_view("U0ALICE")
        await slack.driver.submit_view(
            user="U0ALICE",
            view_id=modal.id,
            state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: EDITED}},
        )
        await demo.finished()
    assert (
        "edited: sending your text to ticket-4814: "
        "“Hi Priya, your refund of 49.00 EUR is on its way. Best, Support”"
    ) in demo.said("stop-topic")


async def test_a_rejection_sends_nothing_and_says_why(slack: Slack) -> None:
    """Reject in Slack and the demo says it does not act, with the reviewer's reason."""
    async with playing(slack, "low-confidence") as demo:
        handoff = await demo.handoff("ticket-4813")
        await slack.click(ActionId.HANDOFF_REJECT, handoff.id)
        modal = await slack.opened_view("U0ALICE")
        await slack.driver.submit_view(
            user="U0ALICE",
            view_id=modal.id,
            state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "It is a billing bug"}},
        )
        await demo.finished()
    assert "rejected: not routing ticket-4813; reason: It is a billing bug" in demo.said(
        "low-confidence"
    )
    assert ("action", "route", None) not in await steps(slack, "ticket-4813")


async def test_each_review_case_opens_the_handoff_its_policy_names(slack: Slack) -> None:
    """Approval, low confidence and a stop topic each reach the review channel as their kind."""
    async with playing(slack, "draft-reply", "low-confidence", "stop-topic", once=True) as demo:
        await demo.finished()
        kinds = {
            ticket: ((await demo.handoff(ticket)).kind, (await demo.handoff(ticket)).stop_topic)
            for ticket in ("ticket-4812", "ticket-4813", "ticket-4814")
        }
    assert kinds == {
        "ticket-4812": ("approval_required", None),
        "ticket-4813": ("low_confidence", None),
        "ticket-4814": ("stop_rule", "refund"),
    }
    await slack.deliver()
    assert len(slack.emulator.messages(REVIEW_CHANNEL)) == 3


async def test_a_model_timeout_is_retried_handed_over_and_parked(slack: Slack) -> None:
    """The timed-out model is retried to the cap, then a tool-failure handoff and a parked job."""
    async with playing(slack, "model-timeout", once=True) as demo:
        await demo.finished()
        handoff = await demo.handoff("ticket-4815")
    assert [step for step in await steps(slack, "ticket-4815") if step[1] == "draft_reply"] == [
        ("model", "draft_reply", "error"),
        ("retry", "draft_reply", "retrying"),
        ("model", "draft_reply", "error"),
        ("retry", "draft_reply", "retrying"),
        ("model", "draft_reply", "error"),
    ]
    assert (handoff.kind, handoff.last_step) == ("tool_failure", "order_lookup")
    assert "gave no answer within 30 s" in (handoff.error or "")
    async with slack.services.readers() as db:
        job = await db.scalar(select(ParkedJob).where(ParkedJob.run_id == handoff.run_id))
    assert job is not None
    assert (job.status, job.last_step, job.input_ref) == ("parked", "order_lookup", "ticket-4815")


async def test_retry_in_slack_makes_the_demo_try_the_model_again(slack: Slack) -> None:
    """Retry on the tool failure: the model answers, its draft is reviewed, then sent."""
    async with playing(slack, "model-timeout") as demo:
        failure = await demo.handoff("ticket-4815", kind="tool_failure")
        await slack.click(ActionId.HANDOFF_RETRY, failure.id, user="U0BOB")
        draft = await demo.handoff("ticket-4815", kind="approval_required")
        await slack.click(ActionId.HANDOFF_APPROVE, draft.id)
        await demo.finished()
    said = demo.said("model-timeout")
    assert "retry requested by U0BOB: asking the model again" in said
    assert (
        "sent the approved reply to ticket-4815: "
        "“Hi Jo, sorry for the wait: your replacement ships today. Best, Support”"
    ) in said
    assert (await run_row(slack, "ticket-4815")).status == "succeeded"


async def test_a_resumed_parked_job_is_claimed_and_continued(slack: Slack) -> None:
    """A person resuming the parked job has the demo claim it and go on after its last step."""
    async with playing(slack, "model-timeout") as demo:
        job = await parked(slack, "ticket-4815")
        async with slack.services.sessions() as db, db.begin():
            await mark_resumable(db, parked_id=job.id, user="U0ALICE", now=slack.services.clock())
        await demo.handoff("ticket-4815", kind="approval_required")
        said = demo.said("model-timeout")
    assert f"ticket-4815: parked job {job.id} was resumed; continuing after order_lookup" in said
    async with slack.services.readers() as db:
        claimed = await db.get(ParkedJob, job.id)
    assert claimed is not None
    assert claimed.status == "resumed"


async def test_taking_over_the_tool_failure_keeps_the_demo_out(slack: Slack) -> None:
    """ "I'll handle it" on the tool failure: the demo says who handles it and does nothing more."""
    async with playing(slack, "model-timeout") as demo:
        failure = await demo.handoff("ticket-4815", kind="tool_failure")
        await slack.click(ActionId.HANDOFF_TAKE_OVER, failure.id, user="U0BOB")
        await demo.finished()
    assert demo.said("model-timeout")[-1] == "taken_over: U0BOB handles ticket-4815; keeping out"
    assert ("gate", "send_reply", "review") not in await steps(slack, "ticket-4815")


async def test_repeated_errors_raise_an_alert(slack: Slack) -> None:
    """The invoices failing one after another open a repeated-error alert at the next check."""
    async with playing(slack, "repeated-errors") as demo:
        await demo.finished()
    await alert_tick(slack.services)
    async with slack.services.readers() as db:
        alerts = (await db.scalars(select(Alert))).all()
    assert [(a.workflow, a.rule, a.status) for a in alerts] == [
        ("invoice-extraction", "repeated_error", "firing")
    ]
    assert "ocr: upstream timeout after 20 s" in alerts[0].title


async def test_a_shadow_case_is_compared_and_never_sent(slack: Slack) -> None:
    """A reviewer's Approve on a shadow case is recorded as a verdict; the demo sends nothing."""
    async with playing(slack, "shadow") as demo:
        handoff = await demo.handoff("ticket-4816")
        await slack.click(ActionId.HANDOFF_APPROVE, handoff.id)
        await demo.finished()
    assert handoff.shadow
    [verdict] = [line for line in demo.said("shadow") if line.startswith("shadow verdict")]
    assert verdict.startswith("shadow verdict on ticket-4816: U0ALICE chose approved")
    assert verdict.endswith("Nothing sent: the workflow is in shadow mode")
    assert ("action", "send_reply", None) not in await steps(slack, "ticket-4816")
    decision = await slack.decision(handoff.id)
    assert decision is not None
    assert decision.outcome == "approved"


async def test_the_demo_makes_its_own_tokens_labelled_demo(slack: Slack) -> None:
    """Every workflow the demo plays gets a token labelled demo, so it needs no set-up."""
    async with playing(slack, once=True) as demo:
        await demo.finished()
    async with slack.services.readers() as db:
        labelled = (await db.scalars(select(Credential).where(Credential.label == "demo"))).all()
    assert sorted(c.workflow for c in labelled) == [
        "invoice-extraction",
        "order-updates",
        "ticket-triage",
    ]
    assert all(c.expires_at is not None for c in labelled)


async def test_without_waiting_the_demo_says_where_to_look(slack: Slack) -> None:
    """``--once`` plays every scenario, opens their handoffs and ends without waiting."""
    async with playing(slack, once=True) as demo:
        lines = await demo.finished()
    assert lines[-1].startswith("not waiting for decisions (--once)")
    assert {line.split("]")[0] + "]" for line in lines if line.startswith("[")} == {
        "[draft-reply]",
        "[low-confidence]",
        "[stop-topic]",
        "[model-timeout]",
        "[repeated-errors]",
        "[shadow]",
    }
