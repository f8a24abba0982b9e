"""Store an export's runs through the ledger's own path, all or nothing.

The steps are redacted by ``workflows.runs.prepare_events`` before the transaction opens,
then, in ONE transaction for the whole export: each run is started if it is new
(``runs.start_run``: a run ID another workflow owns refuses the export), its steps are
appended after its last one by ``store.event_batches`` (span IDs are the client IDs, so
spans already stored are skipped), and a run whose root span ended is finished
(``runs.finish_run``). Any error rolls everything back. Spans for a run that is already
finished are the one thing refused alone: they are counted as rejected, and the rest of
the export is kept (OTLP's partial success).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.engine import Sessions
from store.event_batches import store_event_batch_in
from workflows import runs
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
    prepared = [
        (trace, runs.prepare_events(trace.events(), workflow=workflow, redactor=redactor, now=now))
        for trace in traces
    ]
    result = ExportResult()
    async with sessions() as db, db.begin():
        for trace, rows in prepared:
            run, created = await runs.start_run(
                db, workflow=workflow, request=trace.start, redactor=redactor, now=now
            )
            result.started += created
            was_open = run.status in runs.OPEN_STATUSES
            stored = await store_event_batch_in(
                db, run_id=run.id, workflow=workflow, statuses=runs.OPEN_STATUSES, rows=rows
            )
            if stored is None:
                result.rejected += len(rows)
                result.refusals.append(
                    f"run '{run.id}' is finished ({run.status}): its {len(rows)} new span(s) "
                    "were refused; a new trace starts a new run"
                )
                continue
            result.accepted += len(stored.written)
            result.duplicates += stored.duplicates
            result.errors += sum(1 for row in stored.written if row["status"] == "error")
            if trace.finish is not None and was_open:
                finished = await runs.finish_run(
                    db,
                    workflow=workflow,
                    run_id=run.id,
                    request=trace.finish,
                    redactor=redactor,
                    now=now,
                )
                result.finished.append(finished.status)
    return result
