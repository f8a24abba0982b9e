"""Parked-job queries, including the conditional writes that decide who got there first."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.models import ParkedJob, Run


def create_parked_job(db: AsyncSession, job: ParkedJob) -> None:
    db.add(job)


async def get_parked_job(db: AsyncSession, parked_id: str) -> ParkedJob | None:
    return await db.get(ParkedJob, parked_id, populate_existing=True)


async def get_open_job_for_run(
    db: AsyncSession, run_id: str, statuses: Collection[str]
) -> ParkedJob | None:
    result = await db.execute(
        select(ParkedJob)
        .where(ParkedJob.run_id == run_id, ParkedJob.status.in_(list(statuses)))
        .limit(1)
    )
    return result.scalar_one_or_none()


async def list_parked_jobs(
    db: AsyncSession, *, workflows: Collection[str], statuses: Collection[str], limit: int
) -> Sequence[ParkedJob]:
    """Oldest first: the job waiting longest is the first to look at."""
    if not workflows or not statuses:
        return []
    result = await db.execute(
        select(ParkedJob)
        .where(ParkedJob.workflow.in_(list(workflows)), ParkedJob.status.in_(list(statuses)))
        .order_by(ParkedJob.created_at, ParkedJob.id)
        .limit(limit)
    )
    return result.scalars().all()


async def move_parked_job(
    db: AsyncSession,
    parked_id: str,
    *,
    from_statuses: Collection[str],
    to_status: str,
    by: str,
    now: datetime,
) -> bool:
    """Move a job on if it is still in one of ``from_statuses``; False if someone was first."""
    result = await db.execute(
        update(ParkedJob)
        .where(ParkedJob.id == parked_id, ParkedJob.status.in_(list(from_statuses)))
        .values(status=to_status, decided_by=by, decided_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_jobs(
    db: AsyncSession, *, workflow: str, from_status: str, to_status: str, limit: int
) -> Sequence[ParkedJob]:
    """Hand out up to ``limit`` jobs once each, oldest first.

    One ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on PostgreSQL
    two automations claiming at once get disjoint jobs without waiting on each other; on
    SQLite the ``BEGIN IMMEDIATE`` transaction serialises them.
    """
    candidate = aliased(ParkedJob, name="candidate")
    chosen = (
        select(candidate.id)
        .where(candidate.workflow == workflow, candidate.status == from_status)
        .order_by(candidate.created_at, candidate.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await db.execute(
        update(ParkedJob)
        .where(ParkedJob.id.in_(chosen.scalar_subquery()), ParkedJob.status == from_status)
        .values(status=to_status)
        .returning(ParkedJob)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted(result.scalars().all(), key=lambda job: (job.created_at, job.id))


async def set_run_status(db: AsyncSession, run_id: str, *, status: str, when: str) -> None:
    """Set the run's status if it is currently ``when`` (a finished run is left alone)."""
    await db.execute(update(Run).where(Run.id == run_id, Run.status == when).values(status=status))
