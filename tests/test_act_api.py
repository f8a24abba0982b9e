"""Acting on an approval: bound to the digest of what was approved, and used once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot import jobs
from bot.cli.trace_text import render_trace
from bot.services import Services
from store.models import Alert, AuditEntry, Event
from tests.conftest import bearer
from workflows.audit.verify import verify_audit_log
from workflows.clock import ManualClock
from workflows.delivery.callbacks import load_delivery
from workflows.fingerprint import fingerprint
from workflows.ledger.story import read_run_story
from workflows.pause.switch import pause_workflow
from workflows.review.approval import approval_digest
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]


async def open_draft(client: Client, token: str) -> str:
    """A draft reply with a payload, which the gate hands to a person (it needs approval)."""
    run = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await run.json())["run_id"]
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={
            "action": "send_reply",
            "confidence": 0.95,
            "draft": "Your refund is on its way.",
            "payload": {"order": "A-1", "amount": 40},
        },
        headers=bearer(token),
    )
    answer = await response.json()
    assert answer["verdict"] == "review", answer
    return str(answer["handoff_id"])


async def decide(services: Services, handoff_id: str, outcome: str, **fields: Any) -> None:
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome=outcome, reviewer="U0ALICE", **fields),
            now=services.clock(),
        )


async def read_decision(client: Client, token: str, handoff_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(token))
    decision: dict[str, Any] = (await response.json())["decision"]
    return decision


async def act(client: Client, token: str, handoff_id: str, digest: str) -> tuple[int, Any]:
    response = await client.post(
        f"/api/v1/handoffs/{handoff_id}/act",
        json={"approval_digest": digest},
        headers=bearer(token),
    )
    return response.status, await response.json()


async def refusal_steps(services: Services) -> list[Event]:
    async with services.readers() as db:
        query = select(Event).where(Event.type == "error").order_by(Event.id)
        return list((await db.scalars(query)).all())


async def test_an_approval_carries_the_digest_of_what_was_approved(
    client: Client, token: str, services: Services
) -> None:
    """An edit's decision carries SHA-256 of the action, the edited text and the payload."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "edited", final_text="Your refund of 40 is on its way.")
    decision = await read_decision(client, token, handoff_id)
    assert decision["approval_digest"] == approval_digest(
        action="send_reply",
        final_text="Your refund of 40 is on its way.",
        payload={"order": "A-1", "amount": 40},
    )


async def test_acting_with_the_digest_is_recorded_and_audited(
    client: Client, token: str, services: Services
) -> None:
    """The act answers 200, shows on the decision and is appended to the audit chain."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    digest = (await read_decision(client, token, handoff_id))["approval_digest"]
    status, body = await act(client, token, handoff_id, digest)
    assert status == 200, body
    assert body["approval_digest"] == digest
    assert (await read_decision(client, token, handoff_id))["acted_at"] == body["acted_at"]
    async with services.sessions() as db, db.begin():
        last = (await db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))).first()
        assert (await verify_audit_log(db)).broken is None
    assert last is not None
    assert (last.action, (last.details or {})["approval_digest"]) == ("handoff.acted", digest)


async def test_a_second_act_is_a_409_and_an_incident_step(
    client: Client, token: str, services: Services
) -> None:
    """An approval is used once: the second act is refused and recorded in the run."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    digest = (await read_decision(client, token, handoff_id))["approval_digest"]
    assert (await act(client, token, handoff_id, digest))[0] == 200
    status, body = await act(client, token, handoff_id, digest)
    assert status == 409
    assert "acted on already" in body["error"]["message"]
    [step] = await refusal_steps(services)
    assert (step.name, step.status) == ("act refused", "already_acted")


async def test_another_digest_is_refused_with_422(
    client: Client, token: str, services: Services
) -> None:
    """A digest of anything else than what was approved is refused and names the field."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    status, body = await act(client, token, handoff_id, "0" * 64)
    assert status == 422
    assert body["error"]["details"] == [{"loc": "approval_digest"}]
    assert [step.status for step in await refusal_steps(services)] == ["digest_mismatch"]


@pytest.mark.parametrize(
    ("outcome", "fields", "reason"),
    [(None, {}, "not_decided"), ("rejected", {"reason": "too generous"}, "not_approved")],
)
async def test_nothing_approved_is_refused_with_409(
    client: Client,
    token: str,
    services: Services,
    outcome: str | None,
    fields: dict[str, Any],
    reason: str,
) -> None:
    """A pending or rejected handoff has no approval to act on."""
    handoff_id = await open_draft(client, token)
    if outcome is not None:
        await decide(services, handoff_id, outcome, **fields)
    status, body = await act(client, token, handoff_id, "0" * 64)
    assert status == 409
    assert "no approval to act on" in body["error"]["message"]
    assert [step.status for step in await refusal_steps(services)] == [reason]


async def test_an_expired_handoff_is_refused(
    client: Client, token: str, clock: ManualClock
) -> None:
    """Expiry is never approval: acting on an expired handoff is refused."""
    handoff_id = await open_draft(client, token)
    clock.advance(days=30)
    await read_decision(client, token, handoff_id)  # the read expires it
    status, body = await act(client, token, handoff_id, "0" * 64)
    assert status == 409
    assert "expired" in body["error"]["message"]


async def test_a_held_approval_is_refused_with_423(
    client: Client, token: str, services: Services
) -> None:
    """An approval held by a pause cannot be acted on until an admin resumes."""
    handoff_id = await open_draft(client, token)
    async with services.sessions() as db, db.begin():
        await pause_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="U0OWNER",
            reason="checking",
            now=services.clock(),
        )
    await decide(services, handoff_id, "approved")
    status, body = await act(client, token, handoff_id, "0" * 64)
    assert (status, body["error"]["code"]) == (423, "paused")
    assert [step.status for step in await refusal_steps(services)] == ["held"]


async def test_two_acts_at_once_exactly_one_succeeds(
    client: Client, token: str, services: Services
) -> None:
    """Two acts in parallel with the right digest: one 200, one 409."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    digest = (await read_decision(client, token, handoff_id))["approval_digest"]
    answers = await asyncio.gather(*(act(client, token, handoff_id, digest) for _ in range(2)))
    assert sorted(status for status, _ in answers) == [200, 409]


async def test_refusals_of_one_kind_share_a_fingerprint(
    client: Client, token: str, services: Services
) -> None:
    """Refusals for the same reason on different handoffs group as one repeated error."""
    for _ in range(2):
        handoff_id = await open_draft(client, token)
        await decide(services, handoff_id, "approved")
        await act(client, token, handoff_id, "f" * 64)
    first, second = await refusal_steps(services)
    assert first.error is not None
    assert second.error is not None
    assert fingerprint(first.error) == fingerprint(second.error)


async def test_the_trace_shows_the_approval_and_the_act(
    client: Client, token: str, services: Services
) -> None:
    """``handrail trace`` says who approved when, and that the act used the approved text."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    digest = (await read_decision(client, token, handoff_id))["approval_digest"]
    await act(client, token, handoff_id, "e" * 64)
    _, body = await act(client, token, handoff_id, digest)
    async with services.readers() as db:
        trace = render_trace(await read_run_story(db, run_id=body["run_id"]))
    assert "approved by U0ALICE at" in trace
    assert "with the approved text" in trace
    assert "act on an approval refused: acted with a different text" in trace


async def test_the_webhook_body_carries_the_approval_digest(
    client: Client, token: str, services: Services
) -> None:
    """The decision sent to the automation's webhook carries the same approval digest."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    async with services.readers() as db:
        delivered = await load_delivery(db, handoff_id)
    assert delivered is not None
    decision = await read_decision(client, token, handoff_id)
    assert delivered["decision"]["approval_digest"] == decision["approval_digest"]


async def test_repeated_refusals_alert_on_call(
    client: Client, token: str, services: Services
) -> None:
    """Five refused acts raise the repeated-error alert, titled with the refusal."""
    handoff_id = await open_draft(client, token)
    await decide(services, handoff_id, "approved")
    digest = (await read_decision(client, token, handoff_id))["approval_digest"]
    assert (await act(client, token, handoff_id, digest))[0] == 200
    for _ in range(5):
        assert (await act(client, token, handoff_id, digest))[0] == 409
    await jobs.alert_tick(services)
    async with services.readers() as db:
        [alert] = (await db.scalars(select(Alert))).all()
    assert alert.rule == "repeated_error"
    assert alert.title.startswith("act on an approval refused: the approval was acted on")
