"""The client states the act on an approval: ``act()`` and the ``requires_approval`` path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import handrail_client as handrail
import pytest
from aiohttp.test_utils import TestClient
from handrail_client import ActRefused, ConflictError, HandrailClient, HandrailSyncClient
from sqlalchemy import select
from tenacity import wait_none

from bot.services import Services
from store.models import Decision
from tests.test_client_review import approve, first_pending_handoff
from workflows.review.acts import act_on_approval
from workflows.review.decisions import DecisionInput, record_decision

sent: list[str] = []


@handrail.requires_approval(action="send_reply")
async def send_reply(ticket: str, text: str) -> str:
    sent.append(text)
    return f"sent to {ticket}"


@handrail.requires_approval(action="send_reply")
def send_reply_sync(ticket: str, draft: str) -> str:
    sent.append(draft)
    return f"sent to {ticket}"


@pytest.fixture(autouse=True)
def nothing_sent() -> None:
    sent.clear()


@pytest.fixture
async def handrail_api(client: TestClient[Any, Any], token: str) -> AsyncIterator[HandrailClient]:
    async with HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api:
        yield api


async def acted_at(services: Services, handoff_id: str) -> Any:
    async with services.readers() as db:
        query = select(Decision.acted_at).where(Decision.handoff_id == handoff_id)
        return await db.scalar(query)


async def approve_and_act_behind_its_back(services: Services, handoff_id: str) -> None:
    """Approve and use the approval in one transaction, before the waiting client sees it."""
    async with services.sessions() as db, db.begin():
        row = await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome="approved", reviewer="U0ALICE"),
            now=services.clock(),
        )
        assert row.approval_digest is not None
        await act_on_approval(
            db,
            handoff_id=handoff_id,
            workflow="ticket-triage",
            digest=row.approval_digest,
            actor="test",
            now=services.clock(),
        )
    services.signals.notify(handoff_id)


async def test_an_approved_gated_call_states_its_act_first(
    handrail_api: HandrailClient, services: Services
) -> None:
    """The gated function runs after its act on the approval was recorded."""
    async with handrail_api.run():
        waiting = asyncio.create_task(send_reply("4812", text="Hi there"))
        handoff_id = await first_pending_handoff(services)
        await approve(services, handoff_id, outcome="approved")
        assert await asyncio.wait_for(waiting, 10) == "sent to 4812"
    assert sent == ["Hi there"]
    assert await acted_at(services, handoff_id) is not None


async def test_a_refused_act_stops_the_gated_call(
    handrail_api: HandrailClient, services: Services
) -> None:
    """An approval used already raises ActRefused, and the function does not run."""
    async with handrail_api.run():
        waiting = asyncio.create_task(send_reply("4812", text="Hi there"))
        handoff_id = await first_pending_handoff(services)
        await approve_and_act_behind_its_back(services, handoff_id)
        with pytest.raises(ActRefused, match="acted on already") as refused:
            await asyncio.wait_for(waiting, 10)
    assert refused.value.error.status == 409
    assert sent == []


async def test_a_refused_act_stops_a_sync_gated_call(
    client: TestClient[Any, Any], token: str, services: Services
) -> None:
    """The sync path refuses the same way: ActRefused, and nothing sent."""

    def work() -> str:
        base_url = str(client.make_url(""))
        with HandrailSyncClient(base_url, token, wait=wait_none()) as api, api.run():
            return send_reply_sync("4812", draft="Hi there")

    waiting = asyncio.create_task(asyncio.to_thread(work))
    handoff_id = await first_pending_handoff(services)
    await approve_and_act_behind_its_back(services, handoff_id)
    with pytest.raises(ActRefused):
        await asyncio.wait_for(waiting, 10)
    assert sent == []


async def test_client_act_twice_raises_a_conflict(
    handrail_api: HandrailClient, services: Services
) -> None:
    """``client.act`` records the act once; the second call raises the server's 409."""
    async with handrail_api.run() as run:
        waiting = asyncio.create_task(run.review(action="send_reply", draft="Hi", max_wait=30))
        handoff_id = await first_pending_handoff(services)
        await approve(services, handoff_id, outcome="approved")
        decision = await asyncio.wait_for(waiting, 10)
    assert decision.approval_digest is not None
    record = await handrail_api.act(handoff_id, decision.approval_digest)
    assert record.approval_digest == decision.approval_digest
    with pytest.raises(ConflictError):
        await handrail_api.act(handoff_id, decision.approval_digest)
