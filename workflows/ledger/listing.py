"""Listing a workflow's runs and handoffs a page at a time, with opaque cursors.

A cursor is the (time, id) of the last item of a page, encoded so clients pass it back
without reading it. Pages are keyset queries, so the next page starts exactly after the
last item seen, however many rows arrive meanwhile, and costs the same at any depth.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from store.engine import Sessions
from store.models import Handoff, Run
from store.repositories.export import RunFilter, list_handoffs, list_runs
from workflows.errors import InvalidInput

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Cursor = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a client asked for; ``statuses`` and ``kinds`` empty mean all."""

    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    after: Cursor | None = None
    limit: int = DEFAULT_LIMIT


def encode_cursor(at: datetime, item_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), item_id])).decode()


def decode_cursor(raw: str) -> Cursor:
    """The (time, id) inside ``raw``; anything else is a 422 at ``query.cursor``."""
    try:
        at, item_id = orjson.loads(base64.urlsafe_b64decode(raw.encode()))
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not isinstance(item_id, str):
            raise ValueError(raw)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInput(
            "cursor is not one this API gave out; pass next_cursor from the previous page "
            "unchanged, or leave it out to start from the beginning",
            details=[{"loc": "query.cursor", "value": raw}],
        ) from None
    return parsed, item_id


async def runs_page(sessions: Sessions, *, workflow: str, query: ListQuery) -> dict[str, Any]:
    """One page of ``workflow``'s runs, oldest first, with the cursor of the next."""
    runs = RunFilter(
        workflow=workflow, statuses=query.statuses, since=query.since, until=query.until
    )
    async with sessions() as db:
        rows = await list_runs(db, runs, after=query.after, limit=query.limit + 1)
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return {
        "runs": [run_summary(run) for run in page],
        "next_cursor": encode_cursor(page[-1].started_at, page[-1].id) if more else None,
    }


async def handoffs_page(sessions: Sessions, *, workflow: str, query: ListQuery) -> dict[str, Any]:
    """One page of ``workflow``'s handoffs, oldest first, with the cursor of the next."""
    async with sessions() as db:
        rows = await list_handoffs(
            db,
            workflow=workflow,
            statuses=query.statuses,
            kinds=query.kinds,
            since=query.since,
            until=query.until,
            after=query.after,
            limit=query.limit + 1,
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return {
        "handoffs": [handoff_summary(handoff) for handoff in page],
        "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    }


def run_summary(run: Run) -> dict[str, Any]:
    """A run without its steps (``GET /api/v1/runs/{run_id}`` has them)."""
    return {
        "run_id": run.id,
        "workflow": run.workflow,
        "status": run.status,
        "input_source": run.input_source,
        "prompt_version": run.prompt_version,
        "model": run.model,
        "error": run.error,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "steps": run.event_count,
    }


def handoff_summary(handoff: Handoff) -> dict[str, Any]:
    """A handoff's state; its decision is read with ``GET /api/v1/handoffs/{handoff_id}``."""
    return {
        "handoff_id": handoff.id,
        "run_id": handoff.run_id,
        "workflow": handoff.workflow,
        "kind": handoff.kind,
        "status": handoff.status,
        "action": handoff.action,
        "shadow": handoff.shadow,
        "created_at": handoff.created_at.isoformat(),
        "expires_at": handoff.expires_at.isoformat() if handoff.expires_at else None,
        "decided_at": handoff.decided_at.isoformat() if handoff.decided_at else None,
    }
