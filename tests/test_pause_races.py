"""A resume that overlaps a decision, or another resume, still releases what the pause held.

Each test keeps one transaction open while the other starts, then commits it: whichever
order the database lets them finish in, the decision must end up released. The pause
switches are locked to make that so; without the locks a resume on PostgreSQL decides
what to release from a snapshot that misses the still-open transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from store.models import Decision, OutboxMessage
from tests.callback_receiver import config_calling_back
from tests.conftest import bearer
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig
from workflows.pause.switch import pause_workflow, resume_workflow
from workflows.review.decisions import DecisionInput, record_decision
from workflows.review.handoff_keys import webhook_key
from workflows.review.handoffs import expire_overdue

Client = TestClient[Any, Any]

#: Long enough for an unblocked resume to finish first; a blocked one simply waits.
HEAD_START = 0.3


@pytest.fixture
def config() -> HandrailConfig:
    """Outcomes are pushed (nowhere reachable: only the queued rows matter here)."""
    return config_calling_back("http://127.0.0.1:9/handrail")


async def open_review(client: Client, token: str) -> str:
    run = await (await client.post("/api/v1/runs", json={}, headers=bearer(token))).json()
    gate = await client.post(
        f"/api/v1/runs/{run['run_id']}/gate",
        json={"action": "send_reply", "draft": "Hello", "confidence": 0.95},
        headers=bearer(token),
    )
    return str((await gate.json())["handoff_id"])


async def pause(services: Services, clock: ManualClock, workflow: str) -> None:
    async with services.sessions() as db, db.begin():
        await pause_workflow(
            db, config=services.config, workflow=workflow, actor="U0ALICE", reason=None, now=clock()
        )


async def approve_in(db: AsyncSession, services: Services, handoff_id: str, now: datetime) -> None:
    """Approve in the caller's open transaction, which decides when it commits."""
    await record_decision(
        db,
        handoff_id=handoff_id,
        policy=services.config.workflows["ticket-triage"],
        decision=DecisionInput(outcome="approved", reviewer="U0ALICE"),
        now=now,
    )


async def resume_in(db: AsyncSession, services: Services, workflow: str, now: datetime) -> None:
    """Resume in the caller's open transaction, which decides when it commits."""
    await resume_workflow(db, config=services.config, workflow=workflow, actor="U0CAROL", now=now)


async def resume(services: Services, clock: ManualClock, workflow: str) -> None:
    async with services.sessions() as db, db.begin():
        await resume_in(db, services, workflow, clock())


async def released_at(services: Services, handoff_id: str) -> Any:
    async with services.sessions() as db:
        return await db.scalar(
            select(Decision.released_at).where(Decision.handoff_id == handoff_id)
        )


async def test_a_resume_during_a_decision_releases_it(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A decision recorded as held while a resume starts is released by that resume."""
    handoff_id = await open_review(client, token)
    await pause(services, clock, "ticket-triage")
    async with services.sessions() as db, db.begin():
        await approve_in(db, services, handoff_id, clock())
        resuming = asyncio.create_task(resume(services, clock, "ticket-triage"))
        await asyncio.sleep(HEAD_START)
    await resuming
    assert await released_at(services, handoff_id) is not None


async def test_two_overlapping_resumes_release_what_both_pauses_held(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """With the workflow and all workflows paused, resuming both at once releases the
    decision: each resume used to see the other pause still in force and skip it."""
    handoff_id = await open_review(client, token)
    await pause(services, clock, "ticket-triage")
    await pause(services, clock, "all")
    async with services.sessions() as db, db.begin():
        await approve_in(db, services, handoff_id, clock())
    async with services.sessions() as db, db.begin():
        await resume_in(db, services, "ticket-triage", clock())
        resuming_all = asyncio.create_task(resume(services, clock, "all"))
        await asyncio.sleep(HEAD_START)
    await resuming_all
    assert await released_at(services, handoff_id) is not None


async def test_a_resume_during_an_expiry_releases_its_webhook(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """An expiry webhook queued as held while a resume starts is released by that resume."""
    handoff_id = await open_review(client, token)
    await pause(services, clock, "ticket-triage")
    clock.advance(hours=2, seconds=5)
    async with services.sessions() as db, db.begin():
        assert [h.id for h in await expire_overdue(db, config=services.config, now=clock())] == [
            handoff_id
        ]
        resuming = asyncio.create_task(resume(services, clock, "ticket-triage"))
        await asyncio.sleep(HEAD_START)
    await resuming
    async with services.sessions() as db:
        status = await db.scalar(
            select(OutboxMessage.status).where(OutboxMessage.dedupe_key == webhook_key(handoff_id))
        )
    assert status is not None
    assert status != "held"
