"""Run and event queries, including the two writes that must be atomic in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from store.models import Base, Decision, Event, Handoff, Run

#: The name of the error step a run's failure is recorded as (type ``error``, no client ID).
RUN_FAILED_STEP = "run failed"


def insert_ignoring_conflicts(db: AsyncSession, model: type[Base]) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the dialect of ``db``."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()


async def get_run(db: AsyncSession, run_id: str, *, for_update: bool = False) -> Run | None:
    return await db.get(Run, run_id, with_for_update=for_update or None)


async def get_server_step(
    db: AsyncSession, run_id: str, *, server_key: str, type: str
) -> Event | None:
    """The step Handrail recorded for its own request ``server_key``; never a client's event."""
    result = await db.execute(
        select(Event).where(
            Event.run_id == run_id, Event.server_key == server_key, Event.type == type
        )
    )
    return result.scalar_one_or_none()


async def create_run_if_absent(db: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the run unless its ID exists; True when this call created it."""
    result = await db.execute(insert_ignoring_conflicts(db, Run).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def reserve_event_seqs(db: AsyncSession, counts: Mapping[str, int]) -> dict[str, int]:
    """Hand out consecutive positions in each run (``run_id → how many``), in one atomic
    statement; returns each run's last. A run that does not exist is not in the answer.

    Batches from automations reserve theirs in ``store.event_batches``, with the same
    ``UPDATE … RETURNING`` for one run.
    """
    if not counts:
        return {}
    if len(counts) == 1:
        [(run_id, count)] = counts.items()
        added: Any = count
        where = Run.id == run_id
    else:
        added = case(dict(counts), value=Run.id)
        where = Run.id.in_(list(counts))
    connection = await db.connection()
    result = await connection.execute(
        update(Run)
        .where(where)
        .values(event_count=Run.event_count + added)
        .returning(Run.id, Run.event_count)
    )
    return {run_id: int(last) for run_id, last in result.all()}


async def insert_events(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert steps; a step with the same server key on the run is kept as it was.

    The values travel as parameters, not ``.values()``: the statement then stays the same
    from call to call and SQLAlchemy's compiled cache serves it without walking the values;
    several rows go in one ``executemany``.
    """
    await db.execute(insert_ignoring_conflicts(db, Event), rows[0] if len(rows) == 1 else rows)


async def list_events(db: AsyncSession, run_id: str) -> Sequence[Event]:
    result = await db.execute(select(Event).where(Event.run_id == run_id).order_by(Event.seq))
    return result.scalars().all()


async def list_handoffs_for_run(db: AsyncSession, run_id: str) -> Sequence[Handoff]:
    result = await db.execute(
        select(Handoff).where(Handoff.run_id == run_id).order_by(Handoff.created_at, Handoff.id)
    )
    return result.scalars().all()


async def list_decisions_for_run(db: AsyncSession, run_id: str) -> Sequence[Decision]:
    result = await db.execute(
        select(Decision).where(Decision.run_id == run_id).order_by(Decision.decided_at)
    )
    return result.scalars().all()


async def list_runs_like(db: AsyncSession, fragment: str, limit: int = 5) -> Sequence[Run]:
    """Runs whose ID contains ``fragment`` (for "did you mean" answers), newest first."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await db.execute(
        select(Run)
        .where(Run.id.like(f"%{escaped}%", escape="\\"))
        .order_by(Run.started_at.desc())
        .limit(limit)
    )
    return result.scalars().all()
