"""The value rules of events hold for every other body: parking, pausing and resuming."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import Services
from store.models import AuditEntry, ParkedJob, Workflow
from tests.conftest import MakeToken, bearer
from workflows.pause.switch import pause_workflow, resume_workflow

Client = TestClient[Any, Any]


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def post_raw(client: Client, token: str, path: str, raw: str) -> tuple[int, Any]:
    response = await client.post(
        path, data=raw.encode(), headers={**bearer(token), "Content-Type": "application/json"}
    )
    return response.status, await response.json()


def locations(body: Any) -> list[str]:
    return [detail["loc"] for detail in body["error"]["details"]]


async def parked_jobs(services: Services) -> list[ParkedJob]:
    async with services.readers() as db:
        return list((await db.execute(select(ParkedJob))).scalars())


@pytest.fixture
async def admin(client: Client, make_token: MakeToken) -> str:
    return await make_token(scopes=("admin",))


@pytest.mark.parametrize(
    ("extracted", "where"),
    [
        ('{"total": 123456789012345678901234567890}', "extracted.total"),
        ('{"lines": [1, -9223372036854775809]}', "extracted.lines[1]"),
        ('{"total": 1e999}', "extracted.total"),
        ('{"total": -1e999}', "extracted.total"),
    ],
)
async def test_park_refuses_numbers_no_store_keeps_at_their_place(
    client: Client, token: str, services: Services, extracted: str, where: str
) -> None:
    """A park body with an integer beyond 64 bits or an infinite number is a 422 at the value,
    and no job is parked."""
    run_id = await new_run(client, token)
    raw = f'{{"last_step": "extracted", "extracted": {extracted}}}'
    status, body = await post_raw(client, token, f"/api/v1/runs/{run_id}/park", raw)
    assert (status, locations(body)) == (422, [where])
    assert await parked_jobs(services) == []


async def test_park_stores_nul_characters_as_replacement_characters(
    client: Client, token: str
) -> None:
    """A NUL in any park field, key or value, is stored as U+FFFD on both stores."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/park",
        json={
            "request_id": "p\u00001",
            "last_step": "step\u0000one",
            "input_ref": "ticket\u00007",
            "extracted": {"k\u0000": ["v\u0000"]},
            "error": "tool\u0000died",
        },
        headers=bearer(token),
    )
    assert response.status == 201, await response.text()
    job = await (
        await client.get(
            f"/api/v1/parked/{(await response.json())['parked_id']}", headers=bearer(token)
        )
    ).json()
    assert (job["last_step"], job["input_ref"], job["extracted"], job["error"]) == (
        "step\ufffdone",
        "ticket\ufffd7",
        {"k\ufffd": ["v\ufffd"]},
        "tool\ufffddied",
    )


async def test_api_pause_with_a_nul_in_its_reason_pauses(
    client: Client, admin: str, services: Services
) -> None:
    """A pause reason holding a NUL still pauses the workflow, the NUL kept as U+FFFD."""
    response = await client.post(
        "/api/v1/workflows/ticket-triage/pause",
        json={"reason": "bad\u0000drafts"},
        headers=bearer(admin),
    )
    assert response.status == 200, await response.text()
    async with services.readers() as db:
        row = await db.get(Workflow, "ticket-triage")
    assert row is not None
    assert (row.paused_at is not None, row.paused_reason) == (True, "bad\ufffddrafts")


async def test_api_resume_with_a_nul_in_its_note_resumes(
    client: Client, admin: str, services: Services
) -> None:
    """A resume note holding a NUL still resumes, and the audit keeps it as U+FFFD."""
    path = "/api/v1/workflows/ticket-triage"
    await client.post(f"{path}/pause", json={}, headers=bearer(admin))
    response = await client.post(
        f"{path}/resume", json={"note": "fixed\u0000it"}, headers=bearer(admin)
    )
    assert response.status == 200, await response.text()
    async with services.readers() as db:
        row = await db.get(Workflow, "ticket-triage")
        audit = (
            (
                await db.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action.like("workflow.%"))
                    .order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
    assert row is not None
    assert row.paused_at is None
    assert (audit[-1].details or {}).get("note") == "fixed\ufffdit"


async def test_every_door_pauses_whatever_the_reason_text(services: Services) -> None:
    """The pause and resume every door calls (Slack, CLI, API) keep a NUL as U+FFFD."""
    async with services.sessions() as db, db.begin():
        paused = await pause_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="cli:ops",
            reason="\u0000 stop \u0000",
            now=services.clock(),
        )
    async with services.sessions() as db, db.begin():
        resumed = await resume_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="cli:ops",
            now=services.clock(),
            note="\u0000",
        )
    assert (paused.changed, paused.reason) == (True, "\ufffd stop \ufffd")
    assert (resumed.changed, resumed.reason) == (True, "\ufffd stop \ufffd")
