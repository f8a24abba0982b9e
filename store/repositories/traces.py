"""Reads for ``/trace``: slices of a run's steps by position, and runs near a mistyped ID.

Every step query is bounded and ordered by ``(run_id, seq)``, which the unique index on
those columns serves directly, so the cost of a trace depends on what is shown, not on
how many events the store holds or how long the run is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Event, Run


async def list_events_from(
    db: AsyncSession, run_id: str, *, from_seq: int, limit: int
) -> Sequence[Event]:
    """Up to ``limit`` steps from position ``from_seq`` on, in order."""
    result = await db.execute(
        select(Event)
        .where(Event.run_id == run_id, Event.seq >= from_seq)
        .order_by(Event.seq)
        .limit(limit)
    )
    return result.scalars().all()


async def list_last_events(db: AsyncSession, run_id: str, *, limit: int) -> list[Event]:
    """The last ``limit`` steps, in order."""
    result = await db.execute(
        select(Event).where(Event.run_id == run_id).order_by(Event.seq.desc()).limit(limit)
    )
    return list(reversed(result.scalars().all()))


async def list_events_of_type_between(
    db: AsyncSession, run_id: str, *, type: str, after_seq: int, before_seq: int, limit: int
) -> Sequence[Event]:
    """Steps of one ``type`` strictly between two positions (the hidden middle of a trace)."""
    result = await db.execute(
        select(Event)
        .where(
            Event.run_id == run_id,
            Event.seq > after_seq,
            Event.seq < before_seq,
            Event.type == type,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    return result.scalars().all()


async def list_latest_runs(
    db: AsyncSession, workflows: Collection[str], *, limit: int
) -> Sequence[Run]:
    """The newest runs of ``workflows`` (served by the ``(workflow, started_at)`` index)."""
    if not workflows:
        return []
    result = await db.execute(
        select(Run)
        .where(Run.workflow.in_(list(workflows)))
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
    )
    return result.scalars().all()


async def list_runs_beside(
    db: AsyncSession, run_id: str, workflows: Collection[str], *, limit: int
) -> list[Run]:
    """Runs whose IDs sort just before and just after ``run_id``: where a typo lands.

    Two short range scans of the primary key, whatever the size of the table.
    """
    if not workflows:
        return []
    names = list(workflows)
    below = await db.execute(
        select(Run)
        .where(Run.id < run_id, Run.workflow.in_(names))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    above = await db.execute(
        select(Run).where(Run.id > run_id, Run.workflow.in_(names)).order_by(Run.id).limit(limit)
    )
    return [*below.scalars().all(), *above.scalars().all()]
