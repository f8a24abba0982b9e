"""``GET /api/v1/runs`` and ``GET /api/v1/handoffs``: a token's own workflow, page by page.

Query parameters: ``status`` (and ``kind`` for handoffs), comma-separated; ``since`` and
``until`` (ISO 8601; runs by start, handoffs by creation); ``limit`` (1 to 200); ``cursor``
(the ``next_cursor`` of the previous page). Each bad parameter is a 422 naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from bot.api.errors import json_response
from bot.api.routes import authenticate
from bot.services import SERVICES
from workflows.errors import InvalidInput
from workflows.ledger.listing import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ListQuery,
    decode_cursor,
    handoffs_page,
    runs_page,
)


async def list_runs(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    query = _list_query(request, kinds=False)
    page = await runs_page(services.readers, workflow=principal.workflow, query=query)
    return json_response(page)


async def list_handoffs(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    principal = await authenticate(request, "runs:read")
    query = _list_query(request, kinds=True)
    page = await handoffs_page(services.readers, workflow=principal.workflow, query=query)
    return json_response(page)


def _list_query(request: web.Request, *, kinds: bool) -> ListQuery:
    params = request.query
    cursor = params.get("cursor")
    return ListQuery(
        statuses=_words(params.get("status")),
        kinds=_words(params.get("kind")) if kinds else (),
        since=_time(params.get("since"), "since"),
        until=_time(params.get("until"), "until"),
        after=decode_cursor(cursor) if cursor else None,
        limit=_limit(params.get("limit")),
    )


def _words(raw: str | None) -> tuple[str, ...]:
    return tuple(word for word in (raw or "").split(",") if word)


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} must be an ISO 8601 date or time, such as 2026-01-31T09:00:00Z",
            details=[{"loc": f"query.{name}", "value": raw}],
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_LIMIT}",
            details=[{"loc": "query.limit", "value": raw}],
        )
    return int(raw)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/runs", list_runs)
    app.router.add_get("/api/v1/handoffs", list_handoffs)
