"""The gate and handoffs over HTTP, and decisions reaching the automation."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import Services
from store.gate_writes import STEP_COLUMNS
from store.models import Handoff, OutboxMessage, Workflow
from tests.conftest import TEST_WORKFLOWS, bearer
from workflows.clock import ManualClock
from workflows.config.brief import MAX_STOP_TOPIC_LENGTH, parse_config
from workflows.errors import Conflict
from workflows.gate import RedactedCase, ask_gate
from workflows.ledger.runs import Step, step_row
from workflows.policy import GateQuestion
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def gate(client: Client, token: str, run_id: str, **body: Any) -> tuple[int, Any]:
    response = await client.post(f"/api/v1/runs/{run_id}/gate", json=body, headers=bearer(token))
    return response.status, await response.json()


async def decide(services: Services, handoff_id: str, **decision: Any) -> None:
    decision.setdefault("reviewer", "U0ALICE")
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(**decision),
            now=services.clock(),
        )
    services.signals.notify(handoff_id)


async def test_review_verdict_opens_a_handoff_and_queues_its_message(
    client: Client, token: str, services: Services
) -> None:
    """send_reply needs approval: the gate answers review with a handoff and queues the post."""
    run_id = await new_run(client, token)
    status, body = await gate(
        client, token, run_id, action="send_reply", draft="Hi, here is your answer.", confidence=0.9
    )
    assert status == 200
    assert body["verdict"] == "review"
    assert "requires approval" in body["reason"]
    async with services.sessions() as db:
        rows = (await db.execute(select(OutboxMessage))).scalars().all()
    assert [(row.kind, row.payload["channel"], row.payload["ref"]) for row in rows] == [
        ("slack.post", "C0REVIEW", body["handoff_id"])
    ]


async def test_every_verdict_is_a_step_in_the_trace(client: Client, token: str) -> None:
    """The verdict and its reason appear in the run's story, in order."""
    run_id = await new_run(client, token)
    await gate(client, token, run_id, action="delete")
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    step = story["events"][-1]
    assert (step["type"], step["name"], step["status"]) == ("gate", "delete", "deny")
    assert "not allowed" in step["output"]["reason"]


async def test_a_stop_topic_inside_redacted_text_still_stops(
    client: Client, token: str, services: Services
) -> None:
    """The policy reads the draft as sent; the handoff keeps only the redacted draft."""
    run_id = await new_run(client, token)
    draft = "Forwarded to legal@corp.example for you."
    _, body = await gate(client, token, run_id, action="tag", draft=draft, confidence=0.95)
    assert (body["verdict"], body["reason"]) == ("review", 'stop topic "legal"')
    async with services.sessions() as db:
        handoff = await db.get(Handoff, body["handoff_id"])
    assert handoff is not None
    assert (handoff.stop_topic, handoff.draft) == (
        "legal",
        "Forwarded to [REDACTED:email] for you.",
    )


async def test_confidence_outside_zero_to_one_is_422(client: Client, token: str) -> None:
    """A confidence of 1.5 is refused and named."""
    run_id = await new_run(client, token)
    status, body = await gate(client, token, run_id, action="send_reply", confidence=1.5)
    assert status == 422
    assert body["error"]["details"][0]["loc"] == "confidence"


async def test_malformed_action_is_422(client: Client, token: str) -> None:
    """An action name that is not a slug is refused before the policy runs."""
    run_id = await new_run(client, token)
    status, body = await gate(client, token, run_id, action="Send Reply!")
    assert status == 422
    assert body["error"]["details"][0]["loc"] == "action"


async def test_paused_workflow_gate_denies_and_handoffs_get_423(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """While paused the gate denies and a new handoff is refused with 423."""
    run_id = await new_run(client, token)
    async with services.sessions() as db, db.begin():
        row = await db.get(Workflow, "ticket-triage")
        assert row is not None
        row.paused_at, row.paused_by, row.paused_reason = clock(), "U0OWNER", "bad drafts"
    _, body = await gate(client, token, run_id, action="tag", confidence=0.99)
    handoff = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"kind": "tool_failure", "summary": "order_lookup failed"},
        headers=bearer(token),
    )
    assert body["verdict"] == "deny"
    assert "paused by U0OWNER: bad drafts" in body["reason"]
    assert handoff.status == 423


async def test_tool_failure_handoff_keeps_the_full_error(client: Client, token: str) -> None:
    """A tool-failure handoff stores the failed tool, full error and last step."""
    run_id = await new_run(client, token)
    error = "TimeoutError: timeout after 30 s from order_lookup\n  at line 2"
    response = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={
            "kind": "tool_failure",
            "summary": "lookup failed",
            "tool": "order_lookup",
            "error": error,
            "last_step": "classified ticket",
        },
        headers=bearer(token),
    )
    assert response.status == 201
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    assert story["handoffs"][0]["kind"] == "tool_failure"
    assert story["events"][-1]["type"] == "handoff"


async def test_a_tool_name_lengthened_by_redaction_still_fits_its_column(
    client: Client, token: str, services: Services
) -> None:
    """A tool name whose secret became a longer placeholder is cut to fit, not refused."""
    run_id = await new_run(client, token)
    tool = "x" * 180 + " token=ab12cd34"
    response = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"kind": "tool_failure", "summary": "lookup failed", "tool": tool},
        headers=bearer(token),
    )
    assert response.status == 201, await response.text()
    async with services.sessions() as db:
        stored = await db.get(Handoff, (await response.json())["handoff_id"])
    assert stored is not None
    assert stored.tool is not None
    assert len(stored.tool) == 200
    assert stored.tool.startswith("x" * 180 + " token=[REDACTED:")


async def test_long_poll_returns_the_decision_when_it_is_made(
    client: Client, token: str, services: Services
) -> None:
    """A waiting poll is answered as soon as a reviewer approves."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hello", confidence=0.9)
    handoff_id = body["handoff_id"]
    poll = asyncio.create_task(
        client.get(f"/api/v1/handoffs/{handoff_id}?wait=30", headers=bearer(token))
    )
    await asyncio.sleep(0)
    await decide(services, handoff_id, outcome="approved")
    response = await asyncio.wait_for(poll, 10)
    answer = await response.json()
    assert answer["status"] == "approved"
    assert answer["decision"]["final_text"] == "Hello"
    assert answer["decision"]["reviewer"] == "U0ALICE"


async def test_poll_without_wait_answers_pending_at_once(client: Client, token: str) -> None:
    """Without wait the handoff's current state comes back immediately."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hello", confidence=0.9)
    response = await client.get(f"/api/v1/handoffs/{body['handoff_id']}", headers=bearer(token))
    assert (await response.json())["status"] == "pending"


async def test_edit_records_final_text_and_diff(
    client: Client, token: str, services: Services
) -> None:
    """An edit keeps the final text and a diff against the draft, shown in the run."""
    run_id = await new_run(client, token)
    _, body = await gate(
        client, token, run_id, action="send_reply", draft="Hi\nBye", confidence=0.9
    )
    await decide(services, body["handoff_id"], outcome="edited", final_text="Hello\nBye")
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    decision = story["handoffs"][0]["decision"]
    assert decision["final_text"] == "Hello\nBye"
    assert "-Hi" in decision["diff"]
    assert "+Hello" in decision["diff"]


async def test_the_first_decision_wins(client: Client, token: str, services: Services) -> None:
    """Two decisions at once: one is recorded, the other is told who was first."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    results = await asyncio.gather(
        decide(services, body["handoff_id"], outcome="approved", reviewer="U0ALICE"),
        decide(services, body["handoff_id"], outcome="rejected", reviewer="U0BOB", reason="no"),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1
    assert "already" in conflicts[0].message


async def test_an_expired_handoff_is_never_approved(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """Past its review timeout a handoff reads expired, and a late approval is refused."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    clock.advance(hours=3)
    response = await client.get(f"/api/v1/handoffs/{body['handoff_id']}", headers=bearer(token))
    answer = await response.json()
    assert answer["status"] == "expired"
    assert answer["decision"] is None
    with pytest.raises(Conflict, match="expired"):
        await decide(services, body["handoff_id"], outcome="approved")


async def test_decision_on_paused_workflow_is_held(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A decision made while paused is recorded but not released to the automation."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    async with services.sessions() as db, db.begin():
        row = await db.get(Workflow, "ticket-triage")
        assert row is not None
        row.paused_at, row.paused_by = clock(), "U0OWNER"
    await decide(services, body["handoff_id"], outcome="approved")
    response = await client.get(f"/api/v1/handoffs/{body['handoff_id']}", headers=bearer(token))
    answer = await response.json()
    assert answer["status"] == "held"
    assert answer["decision"] is None


async def test_wait_outside_bounds_is_422(client: Client, token: str) -> None:
    """A wait longer than a minute is refused with the limit in the message."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    response = await client.get(
        f"/api/v1/handoffs/{body['handoff_id']}?wait=600", headers=bearer(token)
    )
    assert response.status == 422


async def test_a_retried_gate_question_gets_the_first_answer(
    client: Client, token: str, services: Services
) -> None:
    """The same request_id twice returns the same handoff and opens only one."""
    run_id = await new_run(client, token)
    question = {"request_id": "q-1", "action": "send_reply", "draft": "Hi", "confidence": 0.9}
    _, first = await gate(client, token, run_id, **question)
    _, second = await gate(client, token, run_id, **question)
    assert first == second
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    assert len(story["handoffs"]) == 1


async def test_a_retried_handoff_request_opens_one_handoff(client: Client, token: str) -> None:
    """Opening a handoff twice with the same request_id returns the first handoff."""
    run_id = await new_run(client, token)
    body = {"request_id": "h-1", "kind": "tool_failure", "summary": "order_lookup failed"}
    url = f"/api/v1/runs/{run_id}/handoffs"
    first = await (await client.post(url, json=body, headers=bearer(token))).json()
    second = await (await client.post(url, json=body, headers=bearer(token))).json()
    assert first["handoff_id"] == second["handoff_id"]


async def test_an_edit_without_changes_counts_as_approval(
    client: Client, token: str, services: Services
) -> None:
    """Saving the edit modal with the draft unchanged records an approval, not an edit."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    await decide(services, body["handoff_id"], outcome="edited", final_text="Hi")
    response = await client.get(f"/api/v1/handoffs/{body['handoff_id']}", headers=bearer(token))
    answer = await response.json()
    assert answer["status"] == "approved"
    assert answer["decision"]["diff"] is None


async def test_the_verdict_comes_before_the_handoff_it_opens(client: Client, token: str) -> None:
    """In the trace the gate verdict precedes the handoff step, and both name the handoff."""
    run_id = await new_run(client, token)
    _, body = await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    steps = [(e["type"], e["output"]["handoff_id"]) for e in story["events"]]
    assert steps == [("gate", body["handoff_id"]), ("handoff", body["handoff_id"])]


async def test_a_verdict_and_its_handoff_take_the_next_positions_after_the_automations_steps(
    client: Client, token: str
) -> None:
    """The two steps a gate records follow the run's earlier steps, and later ones follow them."""
    run_id = await new_run(client, token)
    events_url = f"/api/v1/runs/{run_id}/events"
    step = {"type": "tool", "name": "order_lookup", "status": "ok"}
    batch = {"events": [{**step, "id": "e1"}, {**step, "id": "e2"}]}
    await client.post(events_url, json=batch, headers=bearer(token))
    await gate(client, token, run_id, action="send_reply", draft="Hi", confidence=0.9)
    later = {"events": [{**step, "id": "e3"}]}
    await client.post(events_url, json=later, headers=bearer(token))
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    order = [(event["seq"], event["type"]) for event in story["events"]]
    assert order == [(1, "tool"), (2, "tool"), (3, "gate"), (4, "handoff"), (5, "tool")]


def gauge(metrics_text: str, name: str) -> dict[str, float]:
    """``{label value: sample}`` for one single-label gauge in Prometheus text."""
    samples = {}
    for line in metrics_text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line.rsplit(" ", 1)
            samples[labels.split('"')[1]] = float(value)
    return samples


async def test_metrics_show_what_waits_for_people_and_for_slack(
    client: Client, token: str, clock: ManualClock
) -> None:
    """/metrics reads pending handoffs and the undelivered outbox from the database."""
    before = await (await client.get("/metrics")).text()
    assert gauge(before, "handrail_handoffs_pending")["ticket-triage"] == 0
    assert sum(gauge(before, "handrail_outbox_messages").values()) == 0

    run_id = await new_run(client, token)
    await gate(client, token, run_id, action="send_reply", draft="Hi.", confidence=0.9)
    clock.advance(seconds=90)
    after = await (await client.get("/metrics")).text()

    assert gauge(after, "handrail_handoffs_pending")["ticket-triage"] == 1
    assert gauge(after, "handrail_handoffs_pending_oldest_age_seconds")["ticket-triage"] == 90
    assert sum(gauge(after, "handrail_outbox_messages").values()) == 1
    assert max(gauge(after, "handrail_outbox_oldest_age_seconds").values()) == 90


async def test_a_stop_topic_of_the_longest_allowed_length_is_kept_on_its_handoff(
    client: Client, token: str, services: Services
) -> None:
    """A matched stop topic of 200 characters, the most the config allows, is stored whole."""
    topic = " ".join(["refund"] * 28) + " abcd"
    assert len(topic) == MAX_STOP_TOPIC_LENGTH
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"]["stop_topics"] = [topic]
    policy = parse_config(raw).workflows["ticket-triage"]
    run_id = await new_run(client, token)
    draft = f"About your {topic}."
    answer = await ask_gate(
        services.engine,
        workflow="ticket-triage",
        policy=policy,
        run_id=run_id,
        question=GateQuestion(action="tag", draft=draft, confidence=0.95, summary=None),
        redacted=RedactedCase(draft=draft, summary=None, payload=None),
        now=services.clock(),
    )
    assert answer.verdict == "review"
    async with services.sessions() as db:
        handoff = await db.get(Handoff, answer.handoff_id)
    assert handoff is not None
    assert handoff.stop_topic == topic


async def test_a_gate_stores_its_handoff_as_the_handoff_api_stores_one(
    client: Client, token: str, services: Services
) -> None:
    """The gate's handoff, read back through the ORM, has the values and types of one opened
    by ``POST /handoffs`` for the same case (aware times, JSON documents, flags)."""
    run_id = await new_run(client, token)
    payload = {"order": 42, "lines": ["a", "b"]}
    _, answer = await gate(
        client, token, run_id, action="send_reply", draft="Yes.", confidence=0.9, payload=payload
    )
    opened = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"kind": "approval_required", "summary": "send_reply needs a look",
              "action": "send_reply", "draft": "Yes.", "confidence": 0.9, "context": payload},
        headers=bearer(token),
    )  # fmt: skip
    async with services.sessions() as db:
        by_gate = await db.get(Handoff, answer["handoff_id"])
        by_api = await db.get(Handoff, (await opened.json())["handoff_id"])
    assert by_gate is not None
    assert by_api is not None
    skip = {"id", "reasons", "payload", "context"}
    columns = [column.key for column in Handoff.__table__.columns if column.key not in skip]
    assert {c: getattr(by_gate, c) for c in columns} == {c: getattr(by_api, c) for c in columns}
    assert by_gate.created_at.tzinfo is not None
    assert by_gate.payload == by_api.context == payload
    assert by_gate.reasons
    assert all(isinstance(reason, str) for reason in by_gate.reasons)


async def test_a_long_draft_opened_by_the_gate_is_queued_in_parts_in_its_thread(
    client: Client, token: str, services: Services
) -> None:
    """A draft too long for the message goes to the outbox in parts, after the message."""
    run_id = await new_run(client, token)
    draft = "word " * 2000
    _, answer = await gate(client, token, run_id, action="send_reply", draft=draft, confidence=0.9)
    async with services.sessions() as db:
        rows = (await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    handoff_id = answer["handoff_id"]
    assert rows[0].dedupe_key == f"handoff:{handoff_id}:post"
    assert len(rows) > 1
    assert [row.dedupe_key for row in rows[1:]] == [
        f"handoff:{handoff_id}:draft:{number}" for number in range(1, len(rows))
    ]
    assert {row.ordering_key for row in rows} == {f"handoff:{handoff_id}:post"}


async def test_a_refused_gate_writes_nothing_and_the_next_one_goes_through(
    client: Client, token: str, services: Services
) -> None:
    """A gate on a finished run is refused with 409, leaves no row, and spoils nothing."""
    run_id = await new_run(client, token)
    finished = await client.post(
        f"/api/v1/runs/{run_id}/finish", json={"status": "succeeded"}, headers=bearer(token)
    )
    assert finished.status == 200
    status, body = await gate(client, token, run_id, action="send_reply", draft="x", confidence=1)
    assert status == 409, body
    async with services.sessions() as db:
        assert (await db.execute(select(OutboxMessage))).scalars().all() == []
    status, _ = await gate(client, token, await new_run(client, token), action="send_reply")
    assert status == 200


def test_the_gate_writes_every_column_the_ledger_writes_for_a_step() -> None:
    """The gate's driver-level insert names every column ``step_row`` fills, so nothing the
    ORM path stores (such as the policy's inputs) is dropped on the gate's path."""
    step = Step(type="gate", name="send_reply", status="review", output={})
    row = step_row(step, now=datetime.now(UTC))
    assert set(STEP_COLUMNS) == {*row, "run_id", "workflow", "seq"}
