"""The pause switch over HTTP: ``POST /api/v1/workflows/{name}/pause`` and ``…/resume``.

An ``admin``-scoped token is required (a workflow's ordinary token cannot stop or start
anything). ``{name}`` is a workflow or ``all``. The actor recorded in the audit log is
``api:<credential id>``, so every change can be traced to the token that made it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.api import authenticate, json_response, read_body
from bot.services import SERVICES
from workflows.pause import PauseOutcome, pause_workflow, resume_workflow
from workflows.pausing import ALL_WORKFLOWS
from workflows.requests import PauseBody, ResumeBody


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


async def pause(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "admin")
    body = await read_body(request, PauseBody)
    async with services.sessions() as db, db.begin():
        outcome = await pause_workflow(
            db,
            config=services.config,
            workflow=request.match_info["name"],
            actor=f"api:{principal.credential_id}",
            reason=body.reason,
            now=services.clock(),
        )
    services.wake_outbox()
    return json_response(outcome_json(outcome, paused=True))


async def resume(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "admin")
    body = await read_body(request, ResumeBody)
    async with services.sessions() as db, db.begin():
        outcome = await resume_workflow(
            db,
            config=services.config,
            workflow=request.match_info["name"],
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
