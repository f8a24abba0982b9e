"""The client's retry helper and parking: temporary failures retried to the workflow's cap,
hard ones stopped at once, and a parked job resumed from its last completed step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from handrail_client import (
    HandrailClient,
    HandrailSyncClient,
    InvalidModelOutput,
    StepFailed,
    TemporaryFailure,
    call_with_retries,
)
from handrail_client.retrying import is_temporary
from tenacity import wait_none

from bot.services import Services
from workflows.parking import mark_resumable


class HTTPFailure(Exception):
    """What an SDK raises for an HTTP error: the status on the exception."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@pytest.fixture
async def handrail(client: TestClient[Any, Any], token: str) -> AsyncIterator[HandrailClient]:
    async with HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api:
        yield api


def failing(errors: list[BaseException], result: str = "done") -> tuple[Any, list[int]]:
    """A call that raises ``errors`` in turn, then returns ``result``; counts its calls."""
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return call, calls


@pytest.mark.parametrize(
    "error",
    [
        HTTPFailure(429),
        HTTPFailure(502),
        HTTPFailure(503),
        HTTPFailure(504),
        TimeoutError("read timeout"),
        aiohttp.ServerDisconnectedError(),
        ConnectionResetError("reset by peer"),
        TemporaryFailure("queue full"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status", "")),
)
def test_temporary_failures_are_recognised(error: BaseException) -> None:
    """Rate limits, gateway errors, timeouts and dropped connections are worth a retry."""
    assert is_temporary(error)


@pytest.mark.parametrize(
    "error",
    [
        HTTPFailure(400),
        HTTPFailure(403),
        HTTPFailure(422),
        PermissionError("no access to bucket"),
        ValueError("bad input"),
        InvalidModelOutput("no 'total' field in the model's JSON"),
        KeyError("surprise"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status", "")),
)
def test_hard_failures_are_recognised(error: BaseException) -> None:
    """Bad input, permission denied, invalid model output and the unknown stop at once."""
    assert not is_temporary(error)


async def test_temporary_failures_are_retried_up_to_the_cap() -> None:
    """A call failing temporarily every time is tried exactly max_attempts times."""
    call, calls = failing([HTTPFailure(503)] * 10)
    with pytest.raises(StepFailed) as failed:
        await call_with_retries(call, max_attempts=3, name="ocr", wait=wait_none())
    assert len(calls) == 3
    assert (failed.value.temporary, failed.value.attempts) == (True, 3)


async def test_a_temporary_failure_then_success_returns_the_result() -> None:
    """Two timeouts then an answer: the answer is returned."""
    call, calls = failing([TimeoutError(), TimeoutError()])
    assert await call_with_retries(call, max_attempts=3, wait=wait_none()) == "done"
    assert len(calls) == 3


async def test_a_hard_failure_stops_at_once() -> None:
    """Invalid model output is not retried: one call, and the failure says it was hard."""
    call, calls = failing([InvalidModelOutput("not JSON")])
    with pytest.raises(StepFailed) as failed:
        await call_with_retries(call, max_attempts=5, wait=wait_none())
    assert len(calls) == 1
    assert failed.value.temporary is False
    assert isinstance(failed.value.__cause__, InvalidModelOutput)


async def test_the_cap_comes_from_the_workflow(handrail: HandrailClient) -> None:
    """get_workflow reads retries.max_attempts from workflows.yml (3 by default)."""
    info = await handrail.get_workflow("ticket-triage")
    assert (info.max_attempts, info.paused) == (3, False)


async def test_retries_are_recorded_in_the_run(handrail: HandrailClient) -> None:
    """Each retry is a step of the run, with the error that caused it."""
    call, _ = failing([HTTPFailure(502)])
    async with handrail.run() as run:
        await call_with_retries(call, max_attempts=3, name="ocr", run=run, wait=wait_none())
    story = await handrail.get_run(run.run_id)
    [retry] = [event for event in story["events"] if event["type"] == "retry"]
    assert (retry["name"], retry["error"]) == ("ocr", "HTTPFailure: HTTP 502")


async def test_a_parked_job_is_resumed_from_its_last_step(
    handrail: HandrailClient, services: Services
) -> None:
    """A job parked after its retries ran out is claimed once resumed and finished from there."""
    info = await handrail.get_workflow("ticket-triage")
    ocr, calls = failing([HTTPFailure(503)] * 10)
    async with handrail.run(input_source="invoice INV-2291.pdf") as run:
        await run.action("fetch_invoice", output={"pages": 2})
        try:
            await call_with_retries(ocr, max_attempts=info.max_attempts, name="ocr", run=run)
        except StepFailed as failure:
            parked = await run.park(
                last_step="fetch_invoice",
                input_ref="invoice INV-2291.pdf",
                extracted={"pages": 2},
                error=str(failure),
            )
    assert len(calls) == info.max_attempts
    assert await handrail.claim_resumed() == []
    async with services.sessions() as db, db.begin():
        await mark_resumable(db, parked_id=parked.parked_id, user="U0ALICE", now=services.clock())
    [job] = await handrail.claim_resumed()
    assert (job.run_id, job.last_step, job.extracted) == (run.run_id, "fetch_invoice", {"pages": 2})
    async with handrail.run(job.run_id) as resumed:
        await resumed.action("ocr", output={"total": "1,204.00"})
    story = await handrail.get_run(job.run_id)
    assert story["status"] == "succeeded"
    steps = [(event["type"], event["name"]) for event in story["events"]]
    assert steps == [
        ("action", "fetch_invoice"),
        ("retry", "ocr"),
        ("retry", "ocr"),
        ("park", "parked"),
        ("park", "resumable"),
        ("park", "resumed"),
        ("action", "ocr"),
    ]
    assert await handrail.claim_resumed() == []


async def test_two_clients_claiming_at_once_get_a_job_once(
    handrail: HandrailClient, services: Services
) -> None:
    """Two clients claiming the same resumed job at once: exactly one gets it."""
    async with handrail.run() as run:
        parked = await run.park(last_step="step_1")
    async with services.sessions() as db, db.begin():
        await mark_resumable(db, parked_id=parked.parked_id, user="U0ALICE", now=services.clock())
    first, second = await asyncio.gather(handrail.claim_resumed(), handrail.claim_resumed())
    assert sorted([len(first), len(second)]) == [0, 1]


async def test_the_sync_client_parks_and_claims(
    client: TestClient[Any, Any], token: str, services: Services
) -> None:
    """Plain sync code parks a job and, once a person resumes it, claims it back."""

    def park_one() -> str:
        with HandrailSyncClient(str(client.make_url("")), token) as handrail:
            with handrail.run() as run:
                job = run.park(last_step="fetch_invoice", input_ref="INV-2291.pdf")
            return job.parked_id

    parked_id = await asyncio.to_thread(park_one)
    async with services.sessions() as db, db.begin():
        await mark_resumable(db, parked_id=parked_id, user="U0ALICE", now=services.clock())

    def claim_all() -> list[str]:
        with HandrailSyncClient(str(client.make_url("")), token) as handrail:
            return [job.parked_id for job in handrail.claim_resumed(limit=5)]

    assert await asyncio.to_thread(claim_all) == [parked_id]
