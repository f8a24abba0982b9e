"""Store an export's runs through the ledger's own path, all or nothing.

The steps are redacted by ``workflows.ledger.runs.prepare_events`` before the transaction opens,
with each new run's row (``runs.new_run_row``, as ``runs.start_run`` builds it); then, in
ONE transaction for the whole export: each run is created if it is new and its steps are
appended after its last one, both by ``store.event_batches`` at the driver, as native
batches are (a run ID another workflow owns refuses the export; span IDs are the client
IDs, so spans already stored are skipped), and a run whose root span ended is finished
by ``runs.finish_run``. Any error rolls everything back. Spans for a run that is already
finished are the one thing refused alone: they are counted as rejected, and the rest of
the export is kept (OTLP's partial success).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.engine import Sessions
from store.event_batches import open_run_in, store_event_batch_in
from workflows.ledger import runs
from workflows.otlp.traces import TraceRun
from workflows.redaction import Redactor


@dataclass
class ExportResult:
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    rejected: int = 0
    started: int = 0
    finished: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


async def ingest_export(
    sessions: Sessions,
    *,
    workflow: str,
    traces: list[TraceRun],
    redactor: Redactor,
    now: datetime,
) -> ExportResult:
    """Store ``traces`` for ``workflow`` in one transaction (see the module docstring)."""
    # Runs are taken in ID order, so two exports touching the same runs lock their rows
    # (PostgreSQL) in the same order and cannot deadlock.
    prepared = [
        (
            trace,
            runs.new_run_row(workflow=workflow, request=trace.start, redactor=redactor, now=now),
            runs.prepare_events(trace.events(), workflow=workflow, redactor=redactor, now=now),
        )
        for trace in sorted(traces, key=lambda trace: trace.run_id)
    ]
    result = ExportResult()
    async with sessions() as db, db.begin():
        for trace, run_row, rows in prepared:
            run_id = trace.run_id
            owner, status, created = await open_run_in(db, run_row)
            if owner != workflow:
                raise runs.run_taken(run_id)
            result.started += created
            stored = await store_event_batch_in(
                db, run_id=run_id, workflow=workflow, statuses=runs.OPEN_STATUSES, rows=rows
            )
            if stored is None:
                result.rejected += len(rows)
                result.refusals.append(
                    f"run '{run_id}' is finished ({status}): its {len(rows)} new span(s) "
                    "were refused; a new trace starts a new run"
                )
                continue
            result.accepted += len(stored.written)
            result.duplicates += stored.duplicates
            result.errors += sum(1 for row in stored.written if row["status"] == "error")
            if trace.finish is not None and status in runs.OPEN_STATUSES:
                finished = await runs.finish_run(
                    db,
                    workflow=workflow,
                    run_id=run_id,
                    request=trace.finish,
                    redactor=redactor,
                    now=now,
                )
                result.finished.append(finished.status)
    return result
