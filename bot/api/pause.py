"""The pause switch over HTTP: ``POST /api/v1/workflows/{name}/pause`` and ``…/resume``.

An ``admin``-scoped token is required (a workflow's ordinary token cannot stop or start
anything), and it acts on its own workflow only: another workflow's name answers 404, as
another workflow's run does. ``all`` may be paused by any admin token, because stopping
everything is the safe direction (an incident in one automation may call for it), but not
resumed: releasing every workflow's held decisions is for a person who is admin of each,
through ``/resume all`` in Slack or ``handrail resume all``. The actor recorded in the
audit log is ``api:<credential id>``, so every change can be traced to the token that
made it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.api.errors import json_response
from bot.api.routes import authenticate, ensure_own_workflow, read_body
from bot.services import SERVICES
from workflows.bodies.pause_parking import PauseBody, ResumeBody
from workflows.credentials import Principal
from workflows.errors import Forbidden
from workflows.pause.state import ALL_WORKFLOWS
from workflows.pause.switch import ALL, PauseOutcome, pause_workflow, resume_workflow


def outcome_json(outcome: PauseOutcome, *, paused: bool) -> dict[str, Any]:
    still = outcome.still_paused
    return {
        "workflow": "all" if outcome.target == ALL_WORKFLOWS else outcome.target,
        "changed": outcome.changed,
        "paused": paused or still is not None,
        "paused_by": outcome.paused_by,
        "paused_at": outcome.paused_at.isoformat() if outcome.paused_at else None,
        "reason": outcome.reason,
        "released": {
            "decisions": outcome.released_decisions,
            "deliveries": outcome.released_deliveries,
        },
        "still_paused_by": still.paused_by if still is not None else None,
    }


def _means_all(name: str) -> bool:
    return name.strip().lower() in (ALL, ALL_WORKFLOWS)


def pause_target(principal: Principal, name: str) -> str:
    """What an admin token may pause: its own workflow, or all of them."""
    return ALL if _means_all(name) else ensure_own_workflow(principal, name)


def resume_target(principal: Principal, name: str) -> str:
    """What an admin token may resume: its own workflow only, never all of them."""
    if _means_all(name):
        raise Forbidden(
            "an API token cannot resume all workflows: that releases every workflow's held "
            "decisions, so it is for a person who is admin of each. Use `/resume all` in "
            "Slack or `handrail resume all` on the CLI",
            details=[{"loc": "workflow", "value": name}],
        )
    return ensure_own_workflow(principal, name)


async def pause(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "admin")
    target = pause_target(principal, request.match_info["name"])
    body = await read_body(request, PauseBody)
    async with services.sessions() as db, db.begin():
        outcome = await pause_workflow(
            db,
            config=services.config,
            workflow=target,
            actor=f"api:{principal.credential_id}",
            reason=body.reason,
            now=services.clock(),
        )
    services.wake_outbox()
    return json_response(outcome_json(outcome, paused=True))


async def resume(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "admin")
    target = resume_target(principal, request.match_info["name"])
    body = await read_body(request, ResumeBody)
    async with services.sessions() as db, db.begin():
        outcome = await resume_workflow(
            db,
            config=services.config,
            workflow=target,
            actor=f"api:{principal.credential_id}",
            now=services.clock(),
            note=body.note,
        )
    for handoff_id in outcome.released_handoffs:
        services.signals.notify(handoff_id)
    services.wake_outbox()
    return json_response(outcome_json(outcome, paused=False))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/workflows/{name}/pause", pause)
    app.router.add_post("/api/v1/workflows/{name}/resume", resume)
