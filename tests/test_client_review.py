"""The client's review loop against the real server: gate, wait, decision."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import Decision, HandrailClient, WorkflowPaused
from sqlalchemy import select
from tenacity import wait_none

from bot.services import Services
from store.models import Handoff, Workflow
from workflows.clock import ManualClock
from workflows.review.decisions import DecisionInput, record_decision


@pytest.fixture
async def handrail(client: TestClient[Any, Any], token: str) -> AsyncIterator[HandrailClient]:
    async with HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api:
        yield api


async def first_pending_handoff(services: Services) -> str:
    """The handoff the gate opened, once it exists (the review call runs concurrently)."""
    for _ in range(500):
        async with services.readers() as db:
            found = (await db.execute(select(Handoff.id))).scalars().first()
        if found:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("the gate never opened a handoff")


async def approve(services: Services, handoff_id: str, **decision: Any) -> None:
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(reviewer="U0ALICE", **decision),
            now=services.clock(),
        )
    services.signals.notify(handoff_id)


async def test_review_returns_the_edited_text(handrail: HandrailClient, services: Services) -> None:
    """review() waits for the reviewer and returns the text they edited."""
    async with handrail.run() as run:
        waiting = asyncio.create_task(
            run.review(action="send_reply", draft="Hi there", confidence=0.9, max_wait=30)
        )
        handoff_id = await first_pending_handoff(services)
        await approve(services, handoff_id, outcome="edited", final_text="Hello there")
        decision = await asyncio.wait_for(waiting, 10)
    assert decision.approved
    assert decision.text == "Hello there"
    assert decision.reviewer == "U0ALICE"


async def test_review_returns_the_rejection_reason(
    handrail: HandrailClient, services: Services
) -> None:
    """A rejection comes back not approved, with the reviewer's reason."""
    async with handrail.run() as run:
        waiting = asyncio.create_task(
            run.review(action="send_reply", draft="Refund approved!", confidence=0.9, max_wait=30)
        )
        handoff_id = await first_pending_handoff(services)
        await approve(services, handoff_id, outcome="rejected", reason="we never promise refunds")
        decision = await asyncio.wait_for(waiting, 10)
    assert not decision.approved
    assert decision.reason == "we never promise refunds"


async def test_allowed_action_needs_no_wait(
    client: TestClient[Any, Any], make_token: Any, services: Services
) -> None:
    """In auto mode a confident, allowed action comes back approved at once, draft unchanged."""
    token = await make_token("invoice-extraction")
    async with (
        HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api,
        api.run() as run,
    ):
        decision = await run.review(action="record_invoice", draft="total 12.50", confidence=0.95)
    assert decision.status == "approved"
    assert decision.text == "total 12.50"


async def test_review_on_a_paused_workflow_raises(
    handrail: HandrailClient, services: Services, clock: ManualClock
) -> None:
    """When the workflow is paused review() raises WorkflowPaused with who paused it."""
    async with services.sessions() as db, db.begin():
        row = await db.get(Workflow, "ticket-triage")
        assert row is not None
        row.paused_at, row.paused_by, row.paused_reason = clock(), "U0OWNER", "bad drafts"
    run = handrail.run()
    await run.start()
    with pytest.raises(WorkflowPaused, match="bad drafts"):
        await run.review(action="send_reply", draft="Hi", confidence=0.9)


DRAFT = "call us on +44 20 7946 0958 or write to help@shop.example"


async def decide(handrail: HandrailClient, services: Services, **decision: Any) -> Decision:
    """Send DRAFT for review, decide on it as a reviewer, and return what the client sees."""
    async with handrail.run() as run:
        waiting = asyncio.create_task(
            run.review(action="send_reply", draft=DRAFT, confidence=0.9, max_wait=30)
        )
        await approve(services, await first_pending_handoff(services), **decision)
        return await asyncio.wait_for(waiting, 10)


async def test_approved_text_is_the_draft_as_sent(
    handrail: HandrailClient, services: Services
) -> None:
    """An approval gives back the automation's own draft, not the redacted copy stored."""
    decision = await decide(handrail, services, outcome="approved")
    assert decision.status == "approved"
    assert decision.text == DRAFT
    assert decision.unresolved_redactions == ()


async def test_edited_text_gets_the_redacted_values_back(
    handrail: HandrailClient, services: Services
) -> None:
    """Placeholders a reviewer kept in an edit are filled with the draft's own values."""
    edit = "Hello! Call us on [REDACTED:phone], or write to [REDACTED:email] any time."
    decision = await decide(handrail, services, outcome="edited", final_text=edit)
    assert decision.text == (
        "Hello! Call us on +44 20 7946 0958, or write to help@shop.example any time."
    )
    assert decision.unresolved_redactions == ()


async def test_an_edit_that_cannot_be_tied_to_a_value_is_flagged(
    handrail: HandrailClient, services: Services
) -> None:
    """A placeholder that could stand for either of two values is left and flagged."""
    draft = "Call +44 20 7946 0958 today, or +44 20 7946 0000 on weekends."
    async with handrail.run() as run:
        waiting = asyncio.create_task(
            run.review(action="send_reply", draft=draft, confidence=0.9, max_wait=30)
        )
        edit = "Weekends: [REDACTED:phone]. Else: [REDACTED:phone] today."
        await approve(
            services, await first_pending_handoff(services), outcome="edited", final_text=edit
        )
        decision = await asyncio.wait_for(waiting, 10)
    assert decision.text == "Weekends: [REDACTED:phone]. Else: +44 20 7946 0958 today."
    assert decision.unresolved_redactions == ("phone",)


async def test_a_handoff_opened_directly_gets_its_draft_back(
    handrail: HandrailClient, services: Services
) -> None:
    """open_handoff() then wait_for_decision() also returns the draft as the automation wrote it."""
    async with handrail.run() as run:
        handoff_id = await handrail.open_handoff(
            run.run_id, kind="draft", summary="reply to ticket 4812", draft=DRAFT
        )
        await approve(services, handoff_id, outcome="approved")
        decision = await handrail.wait_for_decision(handoff_id, max_wait=5)
    assert decision.text == DRAFT
