"""How a handoff ended, pushed to the workflow's callback: decisions held by a pause, expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import Decision
from sqlalchemy import select

from bot import jobs
from bot.outbox import OutboxWorker
from bot.services import Services
from store.models import OutboxMessage
from tests.callback_receiver import (
    Receiver,
    config_calling_back,
    receiving_callbacks,
    webhook_worker,
)
from tests.conftest import MakeToken, bearer
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig
from workflows.delivery import outbox
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]
#: The test workflows' review timeout is two hours: this is just past it.
PAST_THE_TIMEOUT = {"hours": 2, "seconds": 5}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving_callbacks() as receiver:
        yield receiver


@pytest.fixture
def config(receiver: Receiver) -> HandrailConfig:
    """The test workflows, with ticket-triage's outcomes pushed to the receiver."""
    return config_calling_back(receiver.url)


@pytest.fixture
async def worker(services: Services) -> AsyncIterator[OutboxWorker]:
    async with webhook_worker(services.sessions, services.clock) as worker:
        yield worker


@pytest.fixture
async def admin(client: Client, make_token: MakeToken) -> str:
    return await make_token(scopes=("admin",))


async def open_review(client: Client, token: str) -> str:
    """A run whose ``send_reply`` needs approval; returns the handoff ID."""
    run = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await run.json())["run_id"]
    gate = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "send_reply", "draft": "Hello", "confidence": 0.95},
        headers=bearer(token),
    )
    return str((await gate.json())["handoff_id"])


async def approve(services: Services, handoff_id: str) -> None:
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome="approved", reviewer="U0ALICE"),
            now=services.clock(),
        )


async def switch(client: Client, admin: str, action: str) -> None:
    response = await client.post(f"/api/v1/workflows/ticket-triage/{action}", headers=bearer(admin))
    assert response.status == 200, await response.text()


async def deliver_twice(worker: OutboxWorker, clock: ManualClock) -> None:
    """Two passes of the worker, a minute apart: anything sent twice would show."""
    await worker.run_once()
    clock.advance(minutes=1)
    await worker.run_once()


async def test_a_decision_held_by_a_pause_is_pushed_as_the_decision(
    client: Client,
    token: str,
    admin: str,
    services: Services,
    worker: OutboxWorker,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    """Pause, approve, resume: the callback gets the approval once, never "held"."""
    handoff_id = await open_review(client, token)
    await switch(client, admin, "pause")
    await approve(services, handoff_id)
    await worker.run_once()
    assert receiver.received == []
    await switch(client, admin, "resume")
    await deliver_twice(worker, clock)
    [body] = receiver.bodies()
    assert (body["handoff_id"], body["status"]) == (handoff_id, "approved")
    assert (body["decision"]["outcome"], body["decision"]["reviewer"]) == ("approved", "U0ALICE")
    [(headers, _)] = receiver.received
    assert headers["X-Handrail-Idempotency-Key"] == f"handoff:{handoff_id}:webhook"


DRAFT_WITH_A_PHONE = "Call us on +44 20 7946 0958 about your order."


async def test_the_webhook_carries_the_long_polls_body(
    client: Client,
    token: str,
    services: Services,
    worker: OutboxWorker,
    receiver: Receiver,
) -> None:
    """The pushed body is the long-poll's, stored (redacted) draft included."""
    run = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    gate = await client.post(
        f"/api/v1/runs/{(await run.json())['run_id']}/gate",
        json={"action": "send_reply", "draft": DRAFT_WITH_A_PHONE, "confidence": 0.95},
        headers=bearer(token),
    )
    handoff_id = (await gate.json())["handoff_id"]
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(
                outcome="edited", reviewer="U0ALICE", final_text="Ring [REDACTED:phone] today."
            ),
            now=services.clock(),
        )
    await worker.run_once()
    [pushed] = receiver.bodies()
    polled = await (
        await client.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(token))
    ).json()
    assert pushed == polled
    assert pushed["draft"] == "Call us on [REDACTED:phone] about your order."
    decision = Decision.from_json(pushed, draft=DRAFT_WITH_A_PHONE)
    assert decision.text == "Ring +44 20 7946 0958 today."
    assert decision.unresolved_redactions == ()


async def test_a_held_body_queued_by_an_earlier_version_is_sent_as_the_decision(
    client: Client,
    token: str,
    services: Services,
    worker: OutboxWorker,
    receiver: Receiver,
) -> None:
    """A row that still carries the "held" body of its day is sent with the decision."""
    handoff_id = await open_review(client, token)
    await approve(services, handoff_id)
    async with services.sessions() as db, db.begin():
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == outbox.WEBHOOK))
        assert row is not None
        row.payload = {
            "url": receiver.url,
            "workflow": "ticket-triage",
            "body": {"handoff_id": handoff_id, "status": "held", "decision": None},
            "idempotency_key": row.dedupe_key,
        }
    await worker.run_once()
    [body] = receiver.bodies()
    assert (body["status"], body["decision"]["outcome"]) == ("approved", "approved")


async def test_expiry_is_pushed_to_the_callback_once(
    client: Client,
    token: str,
    services: Services,
    worker: OutboxWorker,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    """The expiry job tells the automation the handoff expired, once, with no decision."""
    handoff_id = await open_review(client, token)
    clock.advance(**PAST_THE_TIMEOUT)
    assert (await jobs.handoff_check(services))[0] == 1
    await jobs.handoff_check(services)
    await deliver_twice(worker, clock)
    [body] = receiver.bodies()
    assert (body["handoff_id"], body["status"], body["decision"]) == (handoff_id, "expired", None)


async def test_expiry_seen_by_the_long_poll_is_pushed_too(
    client: Client,
    token: str,
    worker: OutboxWorker,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    """A long-poll that expires the handoff itself also queues the expiry webhook."""
    handoff_id = await open_review(client, token)
    clock.advance(**PAST_THE_TIMEOUT)
    response = await client.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(token))
    assert (await response.json())["status"] == "expired"
    await worker.run_once()
    [body] = receiver.bodies()
    assert (body["handoff_id"], body["status"]) == (handoff_id, "expired")


async def test_an_expiry_while_paused_is_pushed_on_resume(
    client: Client,
    token: str,
    admin: str,
    services: Services,
    worker: OutboxWorker,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    """Like a decision, the expiry webhook of a paused workflow waits for the resume."""
    handoff_id = await open_review(client, token)
    await switch(client, admin, "pause")
    clock.advance(**PAST_THE_TIMEOUT)
    await jobs.handoff_check(services)
    await worker.run_once()
    assert receiver.received == []
    await switch(client, admin, "resume")
    await worker.run_once()
    [body] = receiver.bodies()
    assert (body["handoff_id"], body["status"]) == (handoff_id, "expired")


async def test_a_webhook_of_a_removed_handoff_fails_and_says_why(
    services: Services, worker: OutboxWorker, receiver: Receiver
) -> None:
    """A handoff removed with its run before its webhook went out is not sent."""
    async with services.sessions() as db, db.begin():
        await outbox.enqueue(
            db,
            kind=outbox.WEBHOOK,
            dedupe_key="handoff:hof-gone:webhook",
            payload={"url": receiver.url, "workflow": "ticket-triage", "handoff_id": "hof-gone"},
            workflow="ticket-triage",
            now=services.clock(),
        )
    await worker.run_once()
    assert receiver.received == []
    async with services.readers() as db:
        row = await db.scalar(select(OutboxMessage))
    assert row is not None
    assert (row.status, row.last_error) == (
        "failed",
        "handoff hof-gone no longer exists (removed with its run); not sent",
    )
