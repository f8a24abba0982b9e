"""The client's review loop against the real server: gate, wait, decision."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from tenacity import wait_none

from bot.services import Services
from store.models import Handoff, Workflow
from workflows.client import HandrailClient, WorkflowPaused
from workflows.clock import ManualClock
from workflows.decisions import DecisionInput, record_decision


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
