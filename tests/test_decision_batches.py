"""Decisions recorded in batches: each as it would be alone, and a chain that verifies."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.decisions.recorder import DecisionRecorder
from bot.services import Services
from bot.settings import Settings
from store.models import AuditEntry, Decision, Event, Handoff, OutboxMessage
from store.repositories.audit import create_audit_entry
from tests.conftest import TEST_WORKFLOWS
from tests.test_cli_pause import handrail
from tests.test_decision_claims import claim, open_review
from workflows.audit.verify import verify_audit_log
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config
from workflows.errors import Conflict, InvalidInput
from workflows.review.approval import approval_digest
from workflows.review.decisions import DecisionInput, DecisionRequest, record_decisions
from workflows.review.handoff_keys import webhook_key

Client = TestClient[Any, Any]

BURST = 24


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> HandrailConfig:
    """The test workflows, with a callback URL: each decision also queues a webhook."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"]["callback_url"] = "https://automation.internal/handrail"
    raw["workflows"]["ticket-triage"]["callback_secret_env"] = "TRIAGE_CALLBACK_SECRET"
    monkeypatch.setenv("TRIAGE_CALLBACK_SECRET", "whsec-triage")
    return parse_config(raw)


async def test_a_burst_of_claims_recorded_in_batches_leaves_a_chain_that_verifies(
    client: Client,
    token: str,
    services: Services,
    clock: ManualClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Claims recorded seven at a time, with other entries appended between the batches:
    every decision has its row, digest, step, outbox rows and its own entry, in claim
    order, and ``handrail audit verify`` passes."""
    handoffs = [await open_review(client, token) for _ in range(BURST)]
    for number, handoff_id in enumerate(handoffs):
        assert await claim(services, handoff_id, f"U0REV{number % 3}")
        clock.advance(seconds=1)
    recorder = DecisionRecorder(services, batch=7)
    recorded = 0
    while (count := await recorder.record_once()) > 0:
        recorded += count
        async with services.sessions() as db, db.begin():  # another writer of the chain
            await create_audit_entry(
                db,
                actor="U0OWNER",
                action="workflow.pause",
                workflow="ticket-triage",
                details={"between": recorded},
                now=services.clock(),
            )
    assert recorded == BURST

    async with services.readers() as db:
        decisions = (await db.scalars(select(Decision).order_by(Decision.audit_sequence))).all()
        entries = {e.sequence: e for e in (await db.scalars(select(AuditEntry))).all()}
        rows = {h.id: h for h in (await db.scalars(select(Handoff))).all()}
        steps = (await db.scalars(select(Event).where(Event.type == "decision"))).all()
        keys = set((await db.scalars(select(OutboxMessage.dedupe_key))).all())
        result = await verify_audit_log(db)
    assert result.broken is None
    assert result.decisions == BURST
    assert [decision.handoff_id for decision in decisions] == handoffs  # the claims' order
    for decision in decisions:
        handoff = rows[decision.handoff_id]
        assert handoff.status == "approved"
        assert decision.decided_at == handoff.claimed_at
        assert decision.approval_digest == approval_digest(
            action=handoff.action, final_text=handoff.draft, payload=handoff.payload
        )
        assert decision.audit_sequence is not None
        entry = entries[decision.audit_sequence]
        assert (entry.action, entry.actor) == ("handoff.decided", decision.reviewer)
        assert entry.details is not None
        assert entry.details["handoff_id"] == decision.handoff_id
        assert {
            f"handoff:{decision.handoff_id}:update:decided",
            f"handoff:{decision.handoff_id}:decision-reply",
            webhook_key(decision.handoff_id),
        } <= keys
    assert sorted(step.output["handoff_id"] for step in steps if step.output) == sorted(handoffs)

    verified = await asyncio.to_thread(handrail, settings, tmp_path, "audit", "verify")
    assert verified.returncode == 0, verified.stderr


async def test_a_refused_or_repeated_request_does_not_stop_the_rest_of_its_batch(
    client: Client, token: str, services: Services
) -> None:
    """In one batch: an outcome the handoff does not take is refused, a second decision on
    a handoff loses to the first, and the others are recorded."""
    first, second = [await open_review(client, token) for _ in range(2)]
    policy = services.config.workflows["ticket-triage"]

    def request(handoff_id: str, outcome: str, reviewer: str) -> DecisionRequest:
        return DecisionRequest(
            handoff_id=handoff_id,
            policy=policy,
            decision=DecisionInput(outcome=outcome, reviewer=reviewer),
            now=services.clock(),
        )

    async with services.sessions() as db, db.begin():
        results = await record_decisions(
            db,
            [
                request(first, "rejected", "U0ALICE"),  # a rejection needs a reason
                request(first, "approved", "U0ALICE"),
                request(first, "approved", "U0BOB"),
                request(second, "approved", "U0BOB"),
            ],
        )
    refused, won, lost, other = results
    assert isinstance(refused, InvalidInput)
    assert isinstance(won, Decision)
    assert won.reviewer == "U0ALICE"
    assert isinstance(lost, Conflict)
    assert isinstance(other, Decision)
    assert other.handoff_id == second
    async with services.readers() as db:
        result = await verify_audit_log(db)
    assert result.broken is None
    assert result.decisions == 2
