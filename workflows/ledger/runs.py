"""The run ledger: start a run, append its steps in order, finish it, read it back.

Everything an automation sends is redacted before it is written; the order of steps is
assigned by the server from an atomic counter on the run, so concurrent batches never
interleave into the same positions and a retried batch never stores an event twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from store.engine import Sessions
from store.event_batches import store_event_batch
from store.models import Run
from store.repositories import runs as repo
from workflows.bodies.schemas import EventIn, RunFinish, RunStart
from workflows.errors import Conflict, NotFound
from workflows.identifiers import new_id
from workflows.redaction import Redactor, fit

OPEN_STATUSES = frozenset({"running", "handed_over", "parked"})
SHORT_TEXT = 200
"""The length of the short text columns: names, models, prompt versions, a handoff's tool."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: int
    duplicates: int
    errors: int


async def start_run(
    db: AsyncSession, *, workflow: str, request: RunStart, redactor: Redactor, now: datetime
) -> tuple[Run, bool]:
    """Start a run, or return the one already started under the same client ``run_id``."""
    values = new_run_row(workflow=workflow, request=request, redactor=redactor, now=now)
    created = await repo.create_run_if_absent(db, values)
    run = await repo.get_run(db, values["id"])
    if run is None or run.workflow != workflow:
        raise run_taken(values["id"])
    return run, created


def new_run_row(
    *, workflow: str, request: RunStart, redactor: Redactor, now: datetime
) -> dict[str, Any]:
    """The row a new run is stored as: its free texts redacted, its ID as sent or new."""
    redacted = redactor.redact(
        {
            "input_source": request.input_source,
            "prompt_version": request.prompt_version,
            "model": request.model,
            "metadata": request.metadata,
        }
    )
    return {
        "id": request.run_id or new_id("run"),
        "workflow": workflow,
        "status": "running",
        "input_source": redacted.fields["input_source"],
        "prompt_version": _short(redacted.fields["prompt_version"]),
        "model": _short(redacted.fields["model"]),
        "metadata": redacted.fields["metadata"],
        "started_at": now,
        "event_count": 0,
        "redactions": redacted.counts or None,
    }


def run_taken(run_id: str) -> Conflict:
    """The refusal of a run ID another workflow already uses."""
    return Conflict(
        f"run ID '{run_id}' is already used by another workflow; choose another run_id",
        details=[{"loc": "run_id"}],
    )


async def get_run_of(
    db: AsyncSession, *, workflow: str, run_id: str, for_update: bool = False
) -> Run:
    """The run, if it belongs to ``workflow``; another workflow's run is simply not found.

    ``for_update`` locks the run row (PostgreSQL) so requests on one run take turns.
    """
    run = await repo.get_run(db, run_id, for_update=for_update)
    if run is None or run.workflow != workflow:
        raise NotFound(f"no run '{run_id}' in workflow '{workflow}'", details=[{"loc": "run_id"}])
    return run


def prepare_events(
    events: list[EventIn], *, workflow: str, redactor: Redactor, now: datetime
) -> list[dict[str, Any]]:
    """Redact a batch into rows, before any transaction opens.

    Redaction is the costly part of ingestion; doing it here keeps the database's write
    lock (SQLite has one per file) held only for the inserts themselves.
    """
    return [_event_row(event, workflow, redactor, now) for event in events]


async def append_events(
    engine: AsyncEngine,
    readers: Sessions,
    *,
    workflow: str,
    run_id: str,
    rows: list[dict[str, Any]],
) -> AppendResult:
    """Store prepared steps after the run's last one; seen event IDs are skipped.

    The batch goes in through ``store.event_batches`` (the hot path, at the driver); only
    a refused batch reads the run back, to say whether it is unknown or finished.
    """
    stored = await store_event_batch(
        engine, run_id=run_id, workflow=workflow, statuses=OPEN_STATUSES, rows=rows
    )
    if stored is None:
        async with readers() as db, db.begin():
            run = await get_run_of(db, workflow=workflow, run_id=run_id)
        raise Conflict(
            f"run '{run_id}' is finished ({run.status}); start a new run to record more steps",
            details=[{"loc": "run_id", "status": run.status}],
        )
    errors = sum(1 for row in stored.written if row["type"] == "error" or row["status"] == "error")
    return AppendResult(accepted=len(stored.written), duplicates=stored.duplicates, errors=errors)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """A step Handrail itself takes (a gate verdict, a handoff, a decision), before it has
    its place in the run."""

    type: str
    name: str
    status: str | None
    output: dict[str, Any] | None
    server_key: str | None = None
    error: str | None = None
    input: dict[str, Any] | None = None
    """What the step was decided on (the gate's inputs, redacted), for a later backtest."""


async def record_step(
    db: AsyncSession,
    *,
    run_id: str,
    workflow: str,
    type: str,
    name: str,
    status: str | None,
    output: dict[str, Any] | None,
    now: datetime,
    server_key: str | None = None,
    error: str | None = None,
) -> None:
    """Append a step Handrail itself took (a gate verdict, a handoff, a decision).

    These are written by the server from values it produced, so they skip redaction of
    client input but share the run's order with the automation's own steps. ``server_key``
    ties the step to the request that caused it, which makes that request idempotent; it
    has a column of its own, apart from the automation's event IDs, so no event can pose
    as the step (see :func:`find_server_step`).
    """
    step = Step(
        type=type, name=name, status=status, output=output, server_key=server_key, error=error
    )
    await record_steps(db, run_id=run_id, workflow=workflow, steps=[step], now=now)


@dataclass(frozen=True, slots=True)
class RunStep:
    """A step of Handrail's own, with the run it goes into and the time it is recorded."""

    run_id: str
    workflow: str
    step: Step
    now: datetime


async def record_steps(
    db: AsyncSession, *, run_id: str, workflow: str, steps: Sequence[Step], now: datetime
) -> None:
    """Append ``steps`` in order, with one reservation of positions and one insert.

    A request that takes several steps at once (the gate's verdict and the handoff it
    opens) pays for the run's counter and the insert once, not per step.
    """
    await record_run_steps(db, [RunStep(run_id, workflow, step, now) for step in steps])


async def record_run_steps(db: AsyncSession, steps: Sequence[RunStep]) -> None:
    """Append ``steps`` to their runs, each run's in the order given: one reservation of
    positions for every run and one insert, however many runs (a batch of decisions)."""
    if not steps:
        return
    counts: dict[str, int] = {}
    for item in steps:
        counts[item.run_id] = counts.get(item.run_id, 0) + 1
    last = await repo.reserve_event_seqs(db, counts)
    missing = [run_id for run_id in counts if run_id not in last]
    if missing:
        raise NotFound(f"no run '{missing[0]}'", details=[{"loc": "run_id"}])
    following = {run_id: last[run_id] - count + 1 for run_id, count in counts.items()}
    rows: list[dict[str, Any]] = []
    for item in steps:
        seq = following[item.run_id]
        following[item.run_id] = seq + 1
        rows.append(
            {
                **step_row(item.step, now=item.now),
                "run_id": item.run_id,
                "workflow": item.workflow,
                "seq": seq,
            }
        )
    await repo.insert_events(db, rows)


def step_row(step: Step, *, now: datetime) -> dict[str, Any]:
    """A step's event columns but its run, workflow and position, which its writer gives."""
    return {
        "server_key": step.server_key,
        "type": step.type,
        "name": step.name,
        "status": step.status,
        "input": step.input,
        "output": step.output,
        "error": step.error,
        "recorded_at": now,
    }


def server_key(kind: str, request_id: str | None) -> str | None:
    """The key of the step a request with ``request_id`` records (``gate:q2``), if it has one."""
    return f"{kind}:{request_id}" if request_id else None


async def find_server_step(
    db: AsyncSession, *, run_id: str, key: str, type: str
) -> dict[str, Any] | None:
    """The output of the step an earlier request with the same key recorded, if any.

    Only a step Handrail wrote has a server key and one of its own types, so the answer
    to a retried request comes from the server's record of the first, whatever events
    the automation sent in between.
    """
    event = await repo.get_server_step(db, run_id, server_key=key, type=type)
    if event is None:
        return None
    assert isinstance(event.output, dict)  # written by record_step from the server's values
    return event.output


def _event_row(event: EventIn, workflow: str, redactor: Redactor, now: datetime) -> dict[str, Any]:
    """Redact every free text of the event; its client ``id`` and ``status`` stay as sent.

    The ID is what a retried batch is de-duplicated by, and the status a short word errors
    are counted by, so neither is searched; a name or a model string is as likely as an
    input to carry a pasted command line or a key.
    """
    redacted = redactor.redact(
        {
            "name": event.name,
            "model": event.model,
            "prompt_version": event.prompt_version,
            "input": event.input,
            "output": event.output,
            "error": event.error,
            "settings": event.settings,
        }
    )
    content = redacted.fields
    return {
        "run_id": None,
        "workflow": workflow,
        "seq": None,
        "client_id": event.id,
        "type": event.type,
        "name": _short(content["name"]),
        "status": event.status,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_ms": event.measured_duration_ms(),
        "input": content["input"],
        "output": content["output"],
        "error": content["error"],
        "model": _short(content["model"]),
        "settings": content["settings"],
        "prompt_version": _short(content["prompt_version"]),
        "tokens_in": event.tokens_in,
        "tokens_out": event.tokens_out,
        "redactions": redacted.counts or None,
        "recorded_at": now,
    }


def _short(value: Any) -> Any:
    """Keep a redacted short text within its column, as a placeholder may have lengthened it."""
    return fit(value, SHORT_TEXT) if isinstance(value, str) else value


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
    error = redacted.fields["error"]
    run.status = request.status
    run.result = redacted.fields["result"]
    run.error = error if isinstance(error, str) else None
    run.ended_at = now
    if request.status == "failed":
        # The failure is also a step, so the trace ends with it and the alert rules,
        # which read steps, see runs that fail without an error step of their own.
        await record_step(
            db,
            run_id=run_id,
            workflow=workflow,
            type="error",
            name=repo.RUN_FAILED_STEP,
            status="error",
            output=None,
            error=run.error or "the run finished as failed without an error text",
            now=now,
        )
    if redacted.counts:
        merged = dict(run.redactions or {})
        for kind, count in redacted.counts.items():
            merged[kind] = merged.get(kind, 0) + count
        run.redactions = merged
    return run
