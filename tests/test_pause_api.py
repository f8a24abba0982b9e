"""The pause switch through the API and the domain: one state in the database, every door."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from handrail_client import HandrailClient, WorkflowPaused
from sqlalchemy import select

from bot.app import build_app
from bot.renderers.pause import render_pause_notice
from bot.renderers.registry import render_handoff
from bot.services import Services
from bot.settings import Settings
from sandbox.blockkit_limits import check_blocks
from store.engine import create_engine, create_sessions
from store.models import AuditEntry, OutboxMessage, Workflow
from tests.conftest import TEST_WORKFLOWS, MakeToken, bearer
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config
from workflows.pause.switch import RESUMED, pause_workflow, resume_workflow
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]


@pytest.fixture
def config() -> HandrailConfig:
    """The test workflows, with decisions of ticket-triage pushed to a callback URL."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"]["callback_url"] = "http://127.0.0.1:9/handrail"
    raw["workflows"]["ticket-triage"]["callback_secret_env"] = "TRIAGE_CALLBACK_SECRET"
    return parse_config(raw)


@pytest.fixture
async def second(
    client: Client, settings: Settings, config: HandrailConfig, clock: ManualClock
) -> AsyncIterator[Client]:
    """A second Handrail instance (its own engine and process state) on the same database."""
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    services = Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=create_sessions(engine),
        clock=clock,
    )
    async with TestClient(TestServer(build_app(settings, services=services, migrate=False))) as c:
        yield c


@pytest.fixture
async def admin(client: Client, make_token: MakeToken) -> str:
    return await make_token(scopes=("admin",))


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def gate(client: Client, token: str, run_id: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "send_reply", "draft": "Hello", "confidence": 0.95},
        headers=bearer(token),
    )
    body: dict[str, Any] = await response.json()
    return body


async def decide(services: Services, handoff_id: str) -> None:
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome="approved", reviewer="U0ALICE"),
            now=services.clock(),
        )
    services.signals.notify(handoff_id)


async def test_api_pause_stops_the_gate_of_another_instance(
    client: Client, second: Client, token: str, admin: str
) -> None:
    """Once an admin token's pause on one instance has answered, another instance denies."""
    run_id = await new_run(second, token)
    assert (await gate(second, token, run_id))["verdict"] == "review"
    response = await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": "bad drafts"},
        headers=bearer(admin),
    )
    assert response.status == 200, await response.text()
    answer = await gate(second, token, run_id)  # committed before the 200: no waiting
    assert answer["verdict"] == "deny"
    assert answer["paused"] is True
    assert "bad drafts" in answer["reason"]


async def test_api_pause_needs_an_admin_token(client: Client, token: str) -> None:
    """A workflow's ordinary token cannot pause it, and nothing changes."""
    response = await client.post("/api/v1/workflows/ticket-triage/pause", headers=bearer(token))
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden"
    run_id = await new_run(client, token)
    assert (await gate(client, token, run_id))["verdict"] == "review"


async def test_pause_of_an_unknown_workflow_is_404(client: Client, admin: str) -> None:
    """Pausing a workflow that is not in workflows.yml is 404 naming the token's own."""
    response = await client.post("/api/v1/workflows/nope/pause", headers=bearer(admin))
    assert response.status == 404
    message = (await response.json())["error"]["message"]
    assert "nope" in message
    assert "ticket-triage" in message


async def test_pausing_twice_keeps_the_first_pauser(
    client: Client, services: Services, clock: ManualClock
) -> None:
    """A second pause changes nothing: the first pauser, time and reason stay."""
    async with services.sessions() as db, db.begin():
        first = await pause_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="U0ALICE",
            reason="bad drafts",
            now=clock(),
        )
    clock.advance(minutes=5)
    async with services.sessions() as db, db.begin():
        again = await pause_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="U0BOB",
            reason="other",
            now=clock(),
        )
    assert first.changed
    assert not again.changed
    assert (again.paused_by, again.reason) == ("U0ALICE", "bad drafts")
    async with services.readers() as db:
        entries = (
            await db.scalars(select(AuditEntry).where(AuditEntry.action.like("workflow.%")))
        ).all()
    assert [(e.actor, e.action) for e in entries] == [("U0ALICE", "workflow.pause")]


async def test_pause_and_resume_are_audited(
    client: Client, admin: str, services: Services, clock: ManualClock
) -> None:
    """The audit log says who paused and resumed, when, and why."""
    await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": "bad drafts"},
        headers=bearer(admin),
    )
    clock.advance(minutes=10)
    await client.post("/api/v1/workflows/ticket-triage/resume", headers=bearer(admin))
    async with services.readers() as db:
        query = select(AuditEntry).where(AuditEntry.action.like("workflow.%"))
        entries = (await db.scalars(query.order_by(AuditEntry.id))).all()
    assert [(e.action, e.workflow, e.at) for e in entries] == [
        ("workflow.pause", "ticket-triage", clock() - timedelta(minutes=10)),
        ("workflow.resume", "ticket-triage", clock()),
    ]
    assert all(e.actor.startswith("api:cred_") for e in entries)
    assert entries[0].details == {"reason": "bad drafts"}
    assert entries[1].details is not None
    assert entries[1].details["paused_reason"] == "bad drafts"


async def test_a_secret_in_a_pause_reason_or_resume_note_is_never_stored(
    client: Client, admin: str, services: Services
) -> None:
    """A token pasted into a pause reason or a resume note is redacted before it is stored."""
    secret = "gh" + "p_FAKEfake0123456789abcdefABCDEF012345"
    answer = await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": f"leaked {secret} in drafts"},
        headers=bearer(admin),
    )
    assert (await answer.json())["reason"] == "leaked [REDACTED:github_token] in drafts"
    await client.post(
        "/api/v1/workflows/ticket-triage/resume",
        json={"note": f"rotated password=hunter22 and {secret}"},
        headers=bearer(admin),
    )
    async with services.readers() as db:
        entries = (await db.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        workflow = await db.get(Workflow, "ticket-triage")
    stored = str([entry.details for entry in entries]) + str(workflow and workflow.paused_reason)
    assert secret not in stored
    assert "hunter22" not in stored
    [resumed] = [entry for entry in entries if entry.action == RESUMED]
    assert resumed.details is not None
    assert resumed.details["note"] == (
        "rotated password=[REDACTED:secret_field] [REDACTED:github_token]"
    )


async def test_a_held_decision_answers_the_long_poll_after_resume(
    client: Client, token: str, admin: str, services: Services
) -> None:
    """A decision made while paused is held from the long-poll and delivered after resume."""
    run_id = await new_run(client, token)
    handoff_id = (await gate(client, token, run_id))["handoff_id"]
    await client.post("/api/v1/workflows/ticket-triage/pause", headers=bearer(admin))
    await decide(services, handoff_id)
    held = await client.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(token))
    assert (await held.json())["status"] == "held"
    poll = asyncio.create_task(
        client.get(f"/api/v1/handoffs/{handoff_id}?wait=10", headers=bearer(token))
    )
    await asyncio.sleep(0)  # the poll is waiting before the resume
    await client.post("/api/v1/workflows/ticket-triage/resume", headers=bearer(admin))
    body = await (await asyncio.wait_for(poll, 5)).json()
    assert body["status"] == "approved"
    assert body["decision"]["reviewer"] == "U0ALICE"


async def test_a_held_webhook_is_released_on_resume(
    client: Client, token: str, admin: str, services: Services
) -> None:
    """The webhook of a decision made while paused waits as held, then is released."""
    run_id = await new_run(client, token)
    handoff_id = (await gate(client, token, run_id))["handoff_id"]
    await client.post("/api/v1/workflows/ticket-triage/pause", headers=bearer(admin))
    await decide(services, handoff_id)

    async def webhook_status() -> str:
        async with services.readers() as db:
            row = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "webhook"))
        assert row is not None
        return row.status

    assert await webhook_status() == "held"
    response = await client.post("/api/v1/workflows/ticket-triage/resume", headers=bearer(admin))
    assert (await response.json())["released"] == {"decisions": 1, "deliveries": 1}
    assert await webhook_status() == "pending"


async def test_resuming_one_workflow_under_a_pause_on_all_keeps_it_held(
    client: Client, admin: str, services: Services, clock: ManualClock
) -> None:
    """While all workflows are paused, resuming one ends its own pause but it stays stopped."""
    for target in ("ticket-triage", "all"):
        await client.post(f"/api/v1/workflows/{target}/pause", headers=bearer(admin))
    response = await client.post("/api/v1/workflows/ticket-triage/resume", headers=bearer(admin))
    body = await response.json()
    assert body["changed"] is True
    assert body["paused"] is True
    assert body["still_paused_by"].startswith("api:")


async def test_pause_all_stops_every_workflow(
    client: Client, admin: str, make_token: MakeToken
) -> None:
    """Pausing all makes the gate of every workflow deny."""
    invoice = await make_token("invoice-extraction")
    run_id = await new_run(client, invoice)
    await client.post(
        "/api/v1/workflows/all/pause", json={"reason": "incident"}, headers=bearer(admin)
    )
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate", json={"action": "record_invoice"}, headers=bearer(invoice)
    )
    answer = await response.json()
    assert answer["verdict"] == "deny"
    assert "incident" in answer["reason"]


async def test_pause_updates_open_handoff_messages_and_tells_the_alert_channel(
    client: Client, token: str, admin: str, services: Services
) -> None:
    """A pause queues the banner update of each open handoff and a notice to the alert channel."""
    run_id = await new_run(client, token)
    handoff_id = (await gate(client, token, run_id))["handoff_id"]
    await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": "bad drafts"},
        headers=bearer(admin),
    )
    async with services.readers() as db:
        rows = (await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    [update] = [row for row in rows if row.kind == "slack.update"]
    assert update.payload["ref"] == handoff_id
    [notice] = [row for row in rows if row.payload.get("render") == "pause_notice"]
    assert notice.payload["channel"] == "C0ONCALL"


async def test_the_pause_notice_renders_valid_blocks(
    client: Client, admin: str, services: Services
) -> None:
    """The alert-channel notice names the workflow and the reason, in valid Block Kit."""
    await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": "drafts promise <!channel> refunds"},
        headers=bearer(admin),
    )
    async with services.readers() as db:
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "slack.post"))
        assert row is not None
        message = await render_pause_notice(db, row.payload["ref"])
    assert check_blocks(message.blocks) == []
    text = str(message.blocks)
    assert "ticket-triage paused" in text
    assert "&lt;!channel&gt;" in text


async def test_the_client_gets_workflow_paused_for_a_new_handoff(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A handoff requested while the workflow is paused raises WorkflowPaused in the client."""
    async with services.sessions() as db, db.begin():
        await pause_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="U0ALICE",
            reason="bad drafts",
            now=clock(),
        )
    async with HandrailClient(str(client.make_url("")), token) as handrail:
        started = await handrail.start_run()
        with pytest.raises(WorkflowPaused, match="bad drafts") as raised:
            await handrail.open_handoff(started.run_id, kind="other", summary="look")
    assert raised.value.status == 423


async def test_resume_of_a_running_workflow_changes_nothing(
    client: Client, services: Services, clock: ManualClock
) -> None:
    """Resuming a workflow that is not paused is a no-op and writes no audit entry."""
    async with services.sessions() as db, db.begin():
        outcome = await resume_workflow(
            db, config=services.config, workflow="ticket-triage", actor="U0OWNER", now=clock()
        )
    assert not outcome.changed
    async with services.readers() as db:
        assert (
            await db.scalars(select(AuditEntry).where(AuditEntry.action.like("workflow.%")))
        ).all() == []
        row = await db.get(Workflow, "ticket-triage")
    assert row is not None
    assert row.paused_at is None


@pytest.fixture
async def invoice_admin(client: Client, make_token: MakeToken) -> str:
    return await make_token("invoice-extraction", scopes=("admin",))


async def paused_by(services: Services, workflow: str) -> str | None:
    async with services.readers() as db:
        row = await db.get(Workflow, workflow)
    return row.paused_by if row is not None else None


@pytest.mark.parametrize("action", ["pause", "resume"])
async def test_an_admin_token_cannot_switch_another_workflow(
    client: Client, invoice_admin: str, services: Services, clock: ManualClock, action: str
) -> None:
    """An invoice-extraction admin token gets 404 for ticket-triage, and nothing changes."""
    if action == "resume":
        async with services.sessions() as db, db.begin():
            await pause_workflow(
                db,
                config=services.config,
                workflow="ticket-triage",
                actor="U0OWNER",
                reason="bad drafts",
                now=clock(),
            )
    before = await paused_by(services, "ticket-triage")
    response = await client.post(
        f"/api/v1/workflows/ticket-triage/{action}", headers=bearer(invoice_admin)
    )
    assert response.status == 404, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "not_found"
    assert error["details"][0]["loc"] == "workflow"
    assert "invoice-extraction" in error["message"]
    assert await paused_by(services, "ticket-triage") == before
    async with services.readers() as db:
        entries = (
            await db.scalars(select(AuditEntry).where(AuditEntry.action.like("workflow.%")))
        ).all()
    assert [e.actor for e in entries if e.actor.startswith("api:")] == []


async def test_another_workflow_answers_like_one_that_does_not_exist(
    client: Client, invoice_admin: str
) -> None:
    """Another workflow's pause and an unknown one's get the same 404: nothing is revealed."""
    other = await client.post(
        "/api/v1/workflows/ticket-triage/pause", headers=bearer(invoice_admin)
    )
    unknown = await client.post("/api/v1/workflows/nope/pause", headers=bearer(invoice_admin))
    assert (other.status, unknown.status) == (404, 404)
    other_message = (await other.json())["error"]["message"]
    unknown_message = (await unknown.json())["error"]["message"]
    assert other_message.replace("ticket-triage", "nope") == unknown_message


async def test_an_admin_token_cannot_read_another_workflow(
    client: Client, invoice_admin: str
) -> None:
    """GET of another workflow's summary is 404 even with an admin token."""
    response = await client.get("/api/v1/workflows/ticket-triage", headers=bearer(invoice_admin))
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    own = await client.get("/api/v1/workflows/invoice-extraction", headers=bearer(invoice_admin))
    assert own.status == 200
    assert (await own.json())["name"] == "invoice-extraction"


async def test_any_admin_token_may_pause_all(
    client: Client, invoice_admin: str, services: Services
) -> None:
    """Stopping everything is the safe direction: an admin token of one workflow may do it."""
    response = await client.post("/api/v1/workflows/all/pause", headers=bearer(invoice_admin))
    assert response.status == 200, await response.text()
    assert (await response.json())["workflow"] == "all"
    assert (await paused_by(services, "*") or "").startswith("api:cred_")


async def test_no_token_may_resume_all(client: Client, admin: str, services: Services) -> None:
    """Resuming all through the API is 403 pointing to Slack and the CLI; all stays paused."""
    await client.post("/api/v1/workflows/all/pause", headers=bearer(admin))
    response = await client.post("/api/v1/workflows/all/resume", headers=bearer(admin))
    assert response.status == 403
    error = (await response.json())["error"]
    assert error["code"] == "forbidden"
    assert error["details"][0]["loc"] == "workflow"
    assert "`/resume all`" in error["message"]
    assert "`handrail resume all`" in error["message"]
    assert await paused_by(services, "*") is not None


async def test_an_api_reason_mentions_nobody_in_the_banner(
    client: Client, token: str, admin: str, services: Services
) -> None:
    """A ``<@U…>`` in an API pause reason stays text on the open handoff's message."""
    run_id = await new_run(client, token)
    handoff_id = (await gate(client, token, run_id))["handoff_id"]
    await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": "ask <@U0EVE>"},
        headers=bearer(admin),
    )
    async with services.readers() as db:
        message = await render_handoff(db, handoff_id)
    text = str(message.blocks)
    assert "Paused by api:cred_" in text
    assert "ask &lt;@U0EVE&gt;" in text
    assert "<@" not in text
