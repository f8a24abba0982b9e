"""Data lifecycle: the retention purge and erasure on request.

The purge deletes, per workflow with a ``retention``, the runs started before
``now - retention`` together with their steps, handoffs, decisions, deliveries and parked
jobs. The audit log is not purged: it is a hash chain (``store.audit_chain``) that an
auditor verifies whole, so deleting entries would break it. It works in short
transactions of about ``BATCH_ROWS`` rows and pauses between them, so live ingest (which
on SQLite takes the same write lock) waits for one small batch at most.

It never deletes a run that is still open (running, handed over, parked), has a handoff a
person has not decided (or a decision held by a pause), or has an outbox row not yet
settled (sent or failed for good): those are skipped and looked at again by the next
purge. Erasure on request (``erase_runs``) removes the runs asked for whatever their
state, since a person's right to erasure does not wait for a reviewer.

Each purge or erasure leaves an audit entry with counts and run IDs, never the data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.engine import Sessions
from store.repositories import erasure
from store.repositories.audit import create_audit_entry
from workflows.config.brief import HandrailConfig
from workflows.delivery.callbacks import WAITING
from workflows.delivery.outbox import DONE, FAILED
from workflows.ledger.runs import OPEN_STATUSES

#: Rows (steps, plus one per run) deleted per transaction.
BATCH_ROWS = 500
#: Runs erased per transaction (each with all of its rows).
ERASE_BATCH = 100
#: The pause between two batches, which lets waiting writers in. On SQLite a writer that
#: found the database locked sleeps in its busy handler for up to 100 ms at a time, so a
#: shorter pause would let the purge take the lock again before it wakes.
BATCH_PAUSE_SECONDS = {"sqlite": 0.11}
DEFAULT_BATCH_PAUSE_SECONDS = 0.01


def batch_pause(dialect: str) -> float:
    """The pause between batches on a database of ``dialect``."""
    return BATCH_PAUSE_SECONDS.get(dialect, DEFAULT_BATCH_PAUSE_SECONDS)


PURGED = "retention_purge"
ERASED = "erasure"


@dataclass
class PurgeReport:
    """What one purge deleted and kept, per workflow."""

    deleted: dict[str, Counter[str]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, workflow: str, counts: dict[str, int]) -> None:
        self.deleted.setdefault(workflow, Counter()).update(counts)


async def purge_expired(
    sessions: Sessions,
    *,
    config: HandrailConfig,
    now: datetime,
    pause: float,
    batch_rows: int = BATCH_ROWS,
) -> PurgeReport:
    """Delete what each workflow's retention no longer keeps; see the module docstring."""
    report = PurgeReport()
    for name, policy in config.workflows.items():
        if policy.retention is not None:
            await _purge_runs(
                sessions, report, workflow=name, cutoff=now - policy.retention,
                batch_rows=batch_rows, pause=pause,
            )  # fmt: skip
        if name in report.deleted or report.skipped[name]:
            async with sessions() as db, db.begin():
                await create_audit_entry(
                    db,
                    actor="handrail:retention",
                    action=PURGED,
                    workflow=name,
                    details={
                        "deleted": dict(report.deleted.get(name, {})),
                        "kept_in_use": report.skipped[name],
                        "retention_days": _days(policy.retention),
                    },
                    now=now,
                )
    return report


async def _purge_runs(
    sessions: Sessions,
    report: PurgeReport,
    *,
    workflow: str,
    cutoff: datetime,
    batch_rows: int,
    pause: float,
) -> None:
    after: erasure.RunKey | None = None
    while True:
        async with sessions() as db, db.begin():
            batch = await erasure.expired_runs(
                db,
                workflow=workflow,
                cutoff=cutoff,
                open_statuses=OPEN_STATUSES,
                waiting_handoff_statuses=WAITING,
                settled_outbox_statuses=(DONE, FAILED),
                after=after,
                max_rows=batch_rows,
            )
            if batch.last_key is None:
                return
            report.add(workflow, await erasure.delete_runs(db, batch.run_ids))
        report.skipped[workflow] += batch.skipped
        after = batch.last_key
        await asyncio.sleep(pause)


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed: the runs and the rows of every table."""

    run_ids: list[str]
    counts: dict[str, int]


async def find_runs_to_erase(
    sessions: Sessions, *, run_ids: Sequence[str], input_source: str | None
) -> list[tuple[str, str]]:
    """(run ID, workflow) of every run the request covers, oldest first."""
    async with sessions() as db:
        return await erasure.runs_to_erase(db, run_ids=run_ids, input_source=input_source)


async def erase_runs(
    sessions: Sessions,
    runs: Sequence[tuple[str, str]],
    *,
    actor: str,
    reason: str,
    matched_by: str,
    now: datetime,
) -> Erasure:
    """Remove ``runs`` and everything stored about them, with an audit entry per batch and
    workflow saying what was erased and why (``matched_by`` says how the runs were found,
    never the value asked for, which is itself personal data)."""
    total: Counter[str] = Counter()
    for start in range(0, len(runs), ERASE_BATCH):
        chunk = runs[start : start + ERASE_BATCH]
        by_workflow: dict[str, list[str]] = {}
        for run_id, workflow in chunk:
            by_workflow.setdefault(workflow, []).append(run_id)
        async with sessions() as db, db.begin():
            for workflow, ids in by_workflow.items():
                counts = await erasure.delete_runs(db, ids)
                total.update(counts)
                await create_audit_entry(
                    db,
                    actor=actor,
                    action=ERASED,
                    workflow=workflow,
                    details={
                        "reason": reason,
                        "matched_by": matched_by,
                        "run_ids": ids,
                        "deleted": counts,
                    },
                    now=now,
                )
    return Erasure([run_id for run_id, _ in runs], dict(total))


def _days(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds() / 86400
