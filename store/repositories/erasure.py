"""Deleting runs with everything stored about them, in the caller's transaction.

A run's data lives in more tables than ``runs``: its steps, its handoffs with their
decisions and the outbox rows that post, update, remind about or call back on them, its
parked jobs, and the sample and title an alert copied from it. ``delete_runs`` removes
all of it in one transaction, so a run is either whole or gone, never half-deleted.

``expired_runs`` picks what the retention purge may delete: old enough, finished, with no
handoff still waiting for a person and no delivery still on its way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Executable, delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Alert,
    ApprovalVote,
    Decision,
    Event,
    Handoff,
    OutboxMessage,
    ParkedJob,
    Run,
)

#: An alert's title may quote the run (an error line, a handoff summary): it goes too.
ERASED_TITLE = "(text removed with the run it came from)"

#: Runs read per batch to choose from; most batches delete a few runs of many steps.
CANDIDATES = 100

#: Where the retention purge stopped: the (started_at, id) of the last run it looked at.
RunKey = tuple[datetime, str]


def _handoff_rows(handoff_ids: Collection[str]) -> ColumnElement[bool]:
    """Outbox rows of these handoffs: the post and every row ordered after it, and the
    outcome webhook (keys from ``workflows.review.handoff_keys``)."""
    return or_(
        OutboxMessage.ordering_key.in_([f"handoff:{hid}:post" for hid in handoff_ids]),
        OutboxMessage.dedupe_key.in_([f"handoff:{hid}:webhook" for hid in handoff_ids]),
    )


async def delete_runs(db: AsyncSession, run_ids: Sequence[str]) -> dict[str, int]:
    """Delete ``run_ids`` and every row holding their data; the count per table."""
    if not run_ids:
        return {}
    handoff_ids = list(
        (await db.execute(select(Handoff.id).where(Handoff.run_id.in_(run_ids)))).scalars()
    )
    counts: dict[str, int] = {}

    async def _count(name: str, statement: Executable) -> None:
        result = await db.execute(statement)
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]

    if handoff_ids:
        await _count("outbox", delete(OutboxMessage).where(_handoff_rows(handoff_ids)))
    if handoff_ids:
        await _count(
            "approval_votes", delete(ApprovalVote).where(ApprovalVote.handoff_id.in_(handoff_ids))
        )
    await _count("decisions", delete(Decision).where(Decision.run_id.in_(run_ids)))
    await _count("parked_jobs", delete(ParkedJob).where(ParkedJob.run_id.in_(run_ids)))
    await _count("handoffs", delete(Handoff).where(Handoff.run_id.in_(run_ids)))
    await _count("events", delete(Event).where(Event.run_id.in_(run_ids)))
    await _count(
        "alert_samples",
        update(Alert)
        .where(Alert.last_run_id.in_(run_ids))
        .values(last_run_id=None, sample=None, title=ERASED_TITLE),
    )
    await _count("runs", delete(Run).where(Run.id.in_(run_ids)))
    return {name: count for name, count in counts.items() if count}


@dataclass(frozen=True, slots=True)
class ExpiredBatch:
    """Runs the purge may delete now, and where the next batch starts looking."""

    run_ids: list[str]
    skipped: int
    last_key: RunKey | None


async def expired_runs(
    db: AsyncSession,
    *,
    workflow: str,
    cutoff: datetime,
    open_statuses: Collection[str],
    waiting_handoff_statuses: Collection[str],
    settled_outbox_statuses: Collection[str],
    after: RunKey | None,
    max_rows: int,
) -> ExpiredBatch:
    """The next runs of ``workflow`` started before ``cutoff`` that may go, about ``max_rows``
    rows of steps in all (at least one run, however long).

    A run is kept while it is open, while one of its handoffs waits for a person, or while
    an outbox row of its handoffs is not yet settled: deleting it then would lose a
    decision or a delivery someone is waiting for. Kept runs are skipped, not retried in
    this pass; the next scheduled purge looks again.
    """
    query = (
        select(Run.id, Run.started_at, Run.event_count)
        .where(
            Run.workflow == workflow,
            Run.started_at < cutoff,
            Run.status.not_in(list(open_statuses)),
        )
        .order_by(Run.started_at, Run.id)
        .limit(min(max_rows, CANDIDATES))
    )
    if after is not None:
        query = query.where(tuple_(Run.started_at, Run.id) > after)
    candidates = (await db.execute(query)).all()
    if not candidates:
        return ExpiredBatch([], 0, None)
    chosen: list[tuple[str, datetime, int]] = []
    rows = 0
    for run_id, started_at, event_count in candidates:
        if chosen and rows + event_count > max_rows:
            break
        chosen.append((run_id, started_at, event_count))
        rows += event_count + 1
    ids = [run_id for run_id, _, _ in chosen]
    blocked = await _runs_still_in_use(db, ids, waiting_handoff_statuses, settled_outbox_statuses)
    last_id, last_started, _ = chosen[-1]
    return ExpiredBatch(
        [run_id for run_id in ids if run_id not in blocked],
        len(blocked),
        (last_started, last_id),
    )


async def _runs_still_in_use(
    db: AsyncSession,
    run_ids: Sequence[str],
    waiting_handoff_statuses: Collection[str],
    settled_outbox_statuses: Collection[str],
) -> set[str]:
    handoffs = (
        await db.execute(
            select(Handoff.id, Handoff.run_id, Handoff.status).where(Handoff.run_id.in_(run_ids))
        )
    ).all()
    blocked = {run_id for _, run_id, status in handoffs if status in waiting_handoff_statuses}
    owner = {handoff_id: run_id for handoff_id, run_id, _ in handoffs if run_id not in blocked}
    if owner:
        unsettled = await db.execute(
            select(OutboxMessage.ordering_key, OutboxMessage.dedupe_key).where(
                _handoff_rows(owner),
                OutboxMessage.status.not_in(list(settled_outbox_statuses)),
            )
        )
        for ordering_key, dedupe_key in unsettled:
            handoff_id = (ordering_key or dedupe_key).split(":")[1]
            blocked.add(owner[handoff_id])
    return blocked


async def runs_to_erase(
    db: AsyncSession, *, run_ids: Sequence[str], input_source: str | None
) -> list[tuple[str, str]]:
    """(run ID, workflow) of the runs named, or of every run from ``input_source``."""
    conditions: list[ColumnElement[bool]] = []
    if run_ids:
        conditions.append(Run.id.in_(run_ids))
    if input_source is not None:
        conditions.append(Run.input_source == input_source)
    if not conditions:
        return []
    query = select(Run.id, Run.workflow).where(or_(*conditions)).order_by(Run.started_at, Run.id)
    return [(run_id, workflow) for run_id, workflow in await db.execute(query)]
