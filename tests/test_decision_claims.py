"""Claims: a click's place in line, written before its ack, recorded as its decision after."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.decisions.recorder import DecisionRecorder
from bot.services import Services
from store.models import Decision, Handoff
from tests.conftest import bearer
from workflows.clock import ManualClock
from workflows.review.claims import ClickClaim, claim_decisions
from workflows.review.decisions import DecisionInput
from workflows.review.handoffs import expire_overdue

Client = TestClient[Any, Any]


async def open_review(client: Client, token: str) -> str:
    made = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await made.json())["run_id"]
    body = {"action": "send_reply", "draft": "Your refund is on its way.", "confidence": 0.9}
    asked = await client.post(f"/api/v1/runs/{run_id}/gate", json=body, headers=bearer(token))
    return str((await asked.json())["handoff_id"])


async def claim(services: Services, handoff_id: str, reviewer: str) -> bool:
    async with services.sessions() as db, db.begin():
        handoff = await db.get(Handoff, handoff_id)
        assert handoff is not None
        decision = DecisionInput(outcome="approved", reviewer=reviewer)
        [won] = await claim_decisions(
            db, [ClickClaim(handoff=handoff, decision=decision, at=services.clock())]
        )
    return won is True


async def test_a_claim_left_by_a_stopped_server_is_recorded_at_the_claims_time(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A claim without its decision is recorded by the recorder, as of the click."""
    handoff_id = await open_review(client, token)
    claimed_at = clock()
    assert await claim(services, handoff_id, "U0ALICE")
    clock.advance(minutes=3)
    await DecisionRecorder(services).record_all()
    async with services.readers() as db:
        decision = await db.scalar(select(Decision).where(Decision.handoff_id == handoff_id))
    assert decision is not None
    assert (decision.outcome, decision.reviewer, decision.decided_at) == (
        "approved",
        "U0ALICE",
        claimed_at,
    )


async def test_a_second_claim_on_a_handoff_loses(
    client: Client, token: str, services: Services
) -> None:
    """Once one click has claimed a handoff, another click's claim fails."""
    handoff_id = await open_review(client, token)
    assert await claim(services, handoff_id, "U0ALICE")
    assert not await claim(services, handoff_id, "U0BOB")


async def test_a_claimed_handoff_is_not_expired(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """The expiry job leaves a claimed handoff alone: its click came in time."""
    handoff_id = await open_review(client, token)
    assert await claim(services, handoff_id, "U0ALICE")
    clock.advance(days=30)
    async with services.sessions() as db, db.begin():
        expired = await expire_overdue(db, config=services.config, now=clock())
    assert handoff_id not in {handoff.id for handoff in expired}
