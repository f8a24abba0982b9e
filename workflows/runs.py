"""The run ledger: start a run, append its steps in order, finish it, read it back.

Everything an automation sends is redacted before it is written; the order of steps is
assigned by the server from an atomic counter on the run, so concurrent batches never
interleave into the same positions and a retried batch never stores an event twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Run
from store.repositories import runs as repo
from workflows.errors import Conflict, NotFound
from workflows.identifiers import new_id
from workflows.redaction import Redactor
from workflows.schemas import EventIn, RunFinish, RunStart

OPEN_STATUSES = frozenset({"running", "handed_over", "parked"})


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: int
    duplicates: int
    errors: int


async def start_run(
    db: AsyncSession, *, workflow: str, request: RunStart, redactor: Redactor, now: datetime
) -> tuple[Run, bool]:
    """Start a run, or return the one already started under the same client ``run_id``."""
    run_id = request.run_id or new_id("run")
    redacted = redactor.redact({"input_source": request.input_source, "metadata": request.metadata})
    created = await repo.create_run_if_absent(
        db,
        {
            "id": run_id,
            "workflow": workflow,
            "status": "running",
            "input_source": redacted.value["input_source"],
            "prompt_version": request.prompt_version,
            "model": request.model,
            "metadata": redacted.value["metadata"],
            "started_at": now,
            "event_count": 0,
            "redactions": redacted.counts or None,
        },
    )
    run = await repo.get_run(db, run_id)
    if run is None or run.workflow != workflow:
        raise Conflict(
            f"run ID '{run_id}' is already used by another workflow; choose another run_id",
            details=[{"loc": "run_id"}],
        )
    return run, created


async def get_run_of(db: AsyncSession, *, workflow: str, run_id: str) -> Run:
    """The run, if it belongs to ``workflow``; another workflow's run is simply not found."""
    run = await repo.get_run(db, run_id)
    if run is None or run.workflow != workflow:
        raise NotFound(f"no run '{run_id}' in workflow '{workflow}'", details=[{"loc": "run_id"}])
    return run


async def append_events(
    db: AsyncSession,
    *,
    workflow: str,
    run_id: str,
    events: list[EventIn],
    redactor: Redactor,
    now: datetime,
) -> AppendResult:
    """Store a batch of steps after the run's last one; seen event IDs are skipped."""
    run = await get_run_of(db, workflow=workflow, run_id=run_id)
    fresh = await _drop_seen(db, run_id, events)
    if not fresh:
        return AppendResult(accepted=0, duplicates=len(events), errors=0)
    if run.status not in OPEN_STATUSES:
        raise Conflict(
            f"run '{run_id}' is finished ({run.status}); start a new run to record more steps",
            details=[{"loc": "run_id", "status": run.status}],
        )
    last = await repo.reserve_event_seqs(db, run_id, len(fresh))
    first = last - len(fresh) + 1
    rows = [
        _event_row(event, run_id, workflow, first + i, redactor, now)
        for i, event in enumerate(fresh)
    ]
    await repo.insert_events(db, rows)
    errors = sum(1 for row in rows if row["type"] == "error" or row["status"] == "error")
    return AppendResult(accepted=len(fresh), duplicates=len(events) - len(fresh), errors=errors)


async def _drop_seen(db: AsyncSession, run_id: str, events: list[EventIn]) -> list[EventIn]:
    client_ids = [event.id for event in events if event.id is not None]
    if not client_ids:
        return events
    seen = await repo.list_existing_client_ids(db, run_id, client_ids)
    fresh = []
    for event in events:
        if event.id is not None:
            if event.id in seen:
                continue
            seen.add(event.id)
        fresh.append(event)
    return fresh


def _event_row(
    event: EventIn, run_id: str, workflow: str, seq: int, redactor: Redactor, now: datetime
) -> dict[str, Any]:
    redacted = redactor.redact(
        {
            "input": event.input,
            "output": event.output,
            "error": event.error,
            "settings": event.settings,
        }
    )
    content = redacted.value
    return {
        "run_id": run_id,
        "workflow": workflow,
        "seq": seq,
        "client_id": event.id,
        "type": event.type,
        "name": event.name,
        "status": event.status,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_ms": event.measured_duration_ms(),
        "input": content["input"],
        "output": content["output"],
        "error": content["error"],
        "model": event.model,
        "settings": content["settings"],
        "prompt_version": event.prompt_version,
        "tokens_in": event.tokens_in,
        "tokens_out": event.tokens_out,
        "redactions": redacted.counts or None,
        "recorded_at": now,
    }


async def finish_run(
    db: AsyncSession,
    *,
    workflow: str,
    run_id: str,
    request: RunFinish,
    redactor: Redactor,
    now: datetime,
) -> Run:
    """Close a run; finishing again with the same status is a no-op, a different one a 409."""
    run = await get_run_of(db, workflow=workflow, run_id=run_id)
    if run.status not in OPEN_STATUSES:
        if run.status == request.status:
            return run
        raise Conflict(
            f"run '{run_id}' already finished as {run.status}",
            details=[{"loc": "status", "current": run.status}],
        )
    redacted = redactor.redact({"result": request.result, "error": request.error})
    error = redacted.value["error"]
    run.status = request.status
    run.result = redacted.value["result"]
    run.error = error if isinstance(error, str) else None
    run.ended_at = now
    if redacted.counts:
        merged = dict(run.redactions or {})
        for kind, count in redacted.counts.items():
            merged[kind] = merged.get(kind, 0) + count
        run.redactions = merged
    return run
