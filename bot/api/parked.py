"""Parked jobs over HTTP: park a job, list and read them, and claim the resumed ones.

``POST /api/v1/runs/{run_id}/park`` keeps an unfinished job with its context (redacted like
everything an automation sends). ``POST /api/v1/parked/claim`` hands out jobs a person
marked to resume, each exactly once (a POST, because claiming changes them); the automation
then continues the same run after ``last_step``.
"""

from __future__ import annotations

from aiohttp import web

from bot.api.errors import json_response
from bot.api.routes import authenticate, read_body
from bot.services import SERVICES
from workflows import parking
from workflows.bodies.pause_parking import ClaimBody, ParkBody
from workflows.errors import InvalidInput
from workflows.redaction import stored_request_id


async def park(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    body = await read_body(request, ParkBody)
    content = body.model_dump(include={"last_step", "input_ref", "extracted", "error"})
    redactor = services.redactors[principal.workflow]
    fields = redactor.redact(content).value
    assert isinstance(fields, dict)  # redaction keeps the shape of what it is given
    run_id = request.match_info["run_id"]
    request_id = body.request_id and stored_request_id(redactor, body.request_id, run_id=run_id)
    async with services.sessions() as db, db.begin():
        job, created = await parking.park_job(
            db,
            workflow=principal.workflow,
            run_id=run_id,
            request=parking.ParkRequest(request_id=request_id, **fields),
            now=services.clock(),
        )
    return json_response(parking.parked_json(job), 201 if created else 200)


async def list_parked(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    raw = request.query.get("status")
    statuses = parking.WAITING if raw is None else tuple(raw.split(","))
    unknown = sorted(set(statuses) - set(parking.STATUSES))
    if unknown:
        raise InvalidInput(
            f"unknown status {', '.join(unknown)}; choose from {', '.join(parking.STATUSES)}",
            details=[{"loc": "query.status", "value": value} for value in unknown],
        )
    async with services.readers() as db:
        jobs = await parking.list_parked(db, workflows=[principal.workflow], statuses=statuses)
    return json_response({"parked": [parking.parked_json(job) for job in jobs]})


async def get_parked(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    async with services.readers() as db:
        job = await parking.get_parked(
            db, parked_id=request.match_info["parked_id"], workflow=principal.workflow
        )
    return json_response(parking.parked_json(job))


async def claim(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    body = await read_body(request, ClaimBody)
    async with services.sessions() as db, db.begin():
        jobs = await parking.claim_resumed(
            db, workflow=principal.workflow, limit=body.limit, now=services.clock()
        )
    return json_response({"jobs": [parking.parked_json(job) for job in jobs]})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/runs/{run_id}/park", park)
    app.router.add_get("/api/v1/parked", list_parked)
    app.router.add_post("/api/v1/parked/claim", claim)
    app.router.add_get("/api/v1/parked/{parked_id}", get_parked)
