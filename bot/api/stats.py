"""Review metrics and the prompt changelog over HTTP, for the token's own workflow.

``GET /api/v1/workflows/{name}/stats?since=30d&by=action`` answers ``handrail stats --json``;
``/prompt-notes`` lists the changelog (with the unexplained versions) and adds a note.
Like every read, a token sees its own workflow only; another name answers 404.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.api.errors import json_response
from bot.api.routes import authenticate, ensure_own_workflow, read_body
from bot.services import SERVICES
from workflows.durations import parse_duration
from workflows.errors import InvalidInput
from workflows.stats.prompt_notes import PromptNoteBody, add_prompt_note, note_json, read_changelog
from workflows.stats.report import build_stats

DEFAULT_WINDOW = timedelta(days=30)


def _since(raw: str | None) -> timedelta:
    if raw is None:
        return DEFAULT_WINDOW
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise InvalidInput(str(exc), details=[{"loc": "query.since", "value": raw[:40]}]) from None
    except OverflowError:  # more days than a timedelta holds
        raise InvalidInput(
            "the window is too long; write at most 3660d",
            details=[{"loc": "query.since", "value": raw[:40]}],
        ) from None


async def get_stats(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    name = ensure_own_workflow(principal, request.match_info["name"])
    since = _since(request.query.get("since"))
    async with services.readers() as db:
        report = await build_stats(
            db,
            config=services.config,
            workflow=name,
            since=since,
            split=request.query.get("by"),
            now=services.clock(),
        )
    return json_response(report.to_json())


async def list_prompt_notes(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    name = ensure_own_workflow(principal, request.match_info["name"])
    async with services.readers() as db:
        changelog = await read_changelog(db, workflow=name)
    return json_response(changelog.to_json())


async def create_prompt_note(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:write")
    name = ensure_own_workflow(principal, request.match_info["name"])
    body = await read_body(request, PromptNoteBody)
    async with services.sessions() as db, db.begin():
        note, created = await add_prompt_note(
            db,
            workflow=name,
            version=body.version,
            reason=body.reason,
            author=body.author or f"api:{principal.credential_id}",
            now=services.clock(),
        )
    return json_response(note_json(note), 201 if created else 200)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/workflows/{name}/stats", get_stats)
    app.router.add_get("/api/v1/workflows/{name}/prompt-notes", list_prompt_notes)
    app.router.add_post("/api/v1/workflows/{name}/prompt-notes", create_prompt_note)
