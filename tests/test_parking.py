"""Parked jobs over the API: kept with their context, resumed once each, never while paused."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.services import Services
from store.models import ParkedJob, Run
from tests.conftest import MakeToken, bearer
from workflows.clock import ManualClock
from workflows.parking import mark_resumable
from workflows.pause.switch import pause_workflow

Client = TestClient[Any, Any]
CONTEXT = {
    "input_ref": "invoice INV-2291.pdf",
    "last_step": "extract_totals",
    "extracted": {"supplier": "ACME", "total": "1,204.00"},
    "error": "timeout after 30 s from ocr_service",
}


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def park(client: Client, token: str, run_id: str, **body: Any) -> tuple[int, Any]:
    response = await client.post(
        f"/api/v1/runs/{run_id}/park", json={**CONTEXT, **body}, headers=bearer(token)
    )
    return response.status, await response.json()


async def resumable(services: Services, parked_id: str) -> None:
    async with services.sessions() as db, db.begin():
        await mark_resumable(db, parked_id=parked_id, user="U0ALICE", now=services.clock())


async def claim(client: Client, token: str, limit: int = 1) -> list[dict[str, Any]]:
    response = await client.post(
        "/api/v1/parked/claim", json={"limit": limit}, headers=bearer(token)
    )
    assert response.status == 200, await response.text()
    jobs: list[dict[str, Any]] = (await response.json())["jobs"]
    return jobs


async def test_a_parked_job_keeps_its_context(client: Client, token: str) -> None:
    """Parking stores the input reference, last step, extracted fields and error."""
    run_id = await new_run(client, token)
    status, job = await park(client, token, run_id)
    assert status == 201
    response = await client.get(f"/api/v1/parked/{job['parked_id']}", headers=bearer(token))
    stored = await response.json()
    assert {key: stored[key] for key in CONTEXT} == CONTEXT
    assert (stored["run_id"], stored["status"]) == (run_id, "parked")


async def test_park_without_a_last_step_is_refused_by_name(
    client: Client, token: str, services: Services
) -> None:
    """A park request without last_step gets 422 naming the field, and nothing is written."""
    run_id = await new_run(client, token)
    body = {key: value for key, value in CONTEXT.items() if key != "last_step"}
    response = await client.post(f"/api/v1/runs/{run_id}/park", json=body, headers=bearer(token))
    assert response.status == 422
    error = (await response.json())["error"]
    assert [detail["loc"] for detail in error["details"]] == ["last_step"]
    assert error["message"].startswith("last_step:")
    async with services.readers() as db:
        assert await db.scalar(select(func.count()).select_from(ParkedJob)) == 0
        run = await db.get(Run, run_id)
    assert run is not None
    assert run.status == "running"


async def test_a_retried_park_returns_the_same_job(client: Client, token: str) -> None:
    """The same request_id parks once; the retry gets the first job back with 200."""
    run_id = await new_run(client, token)
    first = await park(client, token, run_id, request_id="r-1")
    again = await park(client, token, run_id, request_id="r-1")
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["parked_id"] == again[1]["parked_id"]


async def test_a_second_park_of_a_waiting_job_conflicts(client: Client, token: str) -> None:
    """A run whose job already waits cannot be parked again until it is handled."""
    run_id = await new_run(client, token)
    _, job = await park(client, token, run_id)
    status, body = await park(client, token, run_id)
    assert status == 409
    assert job["parked_id"] in body["error"]["message"]


async def test_a_finished_run_cannot_be_parked(client: Client, token: str) -> None:
    """Only an unfinished job is parked; a finished run answers 409."""
    run_id = await new_run(client, token)
    await client.post(
        f"/api/v1/runs/{run_id}/finish", json={"status": "succeeded"}, headers=bearer(token)
    )
    status, body = await park(client, token, run_id)
    assert status == 409
    assert "finished" in body["error"]["message"]


async def test_each_resumed_job_is_handed_out_once(
    client: Client, token: str, services: Services
) -> None:
    """Five automations claiming at once share two resumed jobs without a duplicate."""
    ids = []
    for _ in range(2):
        _, job = await park(client, token, await new_run(client, token))
        await resumable(services, job["parked_id"])
        ids.append(job["parked_id"])
    claims = await asyncio.gather(*(claim(client, token) for _ in range(5)))
    handed = [job["parked_id"] for jobs in claims for job in jobs]
    assert sorted(handed) == sorted(ids)
    assert await claim(client, token) == []


async def test_a_job_is_not_handed_out_before_a_person_resumes_it(
    client: Client, token: str
) -> None:
    """A parked job waits for a person: claiming finds nothing until it is resumed."""
    await park(client, token, await new_run(client, token))
    assert await claim(client, token) == []


async def test_claiming_while_paused_is_423(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """Nothing is handed out while the workflow is paused."""
    _, job = await park(client, token, await new_run(client, token))
    await resumable(services, job["parked_id"])
    async with services.sessions() as db, db.begin():
        await pause_workflow(
            db,
            config=services.config,
            workflow="ticket-triage",
            actor="U0ALICE",
            reason="incident",
            now=clock(),
        )
    response = await client.post("/api/v1/parked/claim", json={}, headers=bearer(token))
    assert response.status == 423
    assert "incident" in (await response.json())["error"]["message"]


async def test_listing_filters_by_status(client: Client, token: str, services: Services) -> None:
    """The list shows waiting jobs by default and one status when asked."""
    _, first = await park(client, token, await new_run(client, token))
    _, second = await park(client, token, await new_run(client, token))
    await resumable(services, second["parked_id"])
    waiting = await (await client.get("/api/v1/parked", headers=bearer(token))).json()
    assert [job["parked_id"] for job in waiting["parked"]] == [
        first["parked_id"],
        second["parked_id"],
    ]
    only = await client.get("/api/v1/parked?status=resumable", headers=bearer(token))
    assert [job["parked_id"] for job in (await only.json())["parked"]] == [second["parked_id"]]


async def test_an_unknown_status_filter_is_422(client: Client, token: str) -> None:
    """A status that does not exist is refused, naming the allowed ones."""
    response = await client.get("/api/v1/parked?status=lost", headers=bearer(token))
    assert response.status == 422
    assert "parked, resumable, resumed, taken_over" in (await response.json())["error"]["message"]


async def test_another_workflows_job_is_not_found(
    client: Client, token: str, make_token: MakeToken
) -> None:
    """A token of one workflow cannot read another workflow's parked jobs."""
    _, job = await park(client, token, await new_run(client, token))
    other = await make_token("invoice-extraction")
    response = await client.get(f"/api/v1/parked/{job['parked_id']}", headers=bearer(other))
    assert response.status == 404
