"""Workflow rows: the pause switch and the anchor for foreign keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Workflow
from store.repositories.runs import insert_ignoring_conflicts


async def get_workflow(db: AsyncSession, name: str) -> Workflow | None:
    return await db.get(Workflow, name)


async def read_pause_switches(
    db: AsyncSession, names: Iterable[str], *, lock: Literal["share", "update"] | None
) -> dict[str, Row[str, datetime | None, str | None, str | None]]:
    """The pause columns of ``names``, their rows locked until the transaction ends.

    ``None`` reads them without a lock, for work that only reports a pause (the gate).

    ``share`` for work that writes state held by a pause (a decision, an expiry webhook):
    a resume waits for it and then releases what it wrote. ``update`` for a resume, which
    must not decide what to release while such work is half done. Rows are locked in name
    order everywhere, so two of these never wait on each other in a circle. On SQLite the
    lock clause is dropped: its writers already take turns.
    """
    query = (
        select(Workflow.name, Workflow.paused_at, Workflow.paused_by, Workflow.paused_reason)
        .where(Workflow.name.in_(sorted(set(names))))
        .order_by(Workflow.name)
    )
    if lock is not None:
        query = query.with_for_update(read=lock == "share")
    found = await db.execute(query)
    return {row.name: row for row in found.all()}


async def list_workflows(db: AsyncSession) -> Sequence[Workflow]:
    return (await db.execute(select(Workflow).order_by(Workflow.name))).scalars().all()


async def create_missing_workflows(db: AsyncSession, names: Iterable[str], now: datetime) -> None:
    rows = [{"name": name, "created_at": now} for name in names]
    if rows:
        await db.execute(insert_ignoring_conflicts(db, Workflow), rows)


async def set_paused(
    db: AsyncSession, name: str, *, by: str, reason: str | None, now: datetime
) -> bool:
    """Throw the switch unless it is already thrown; True when this call paused ``name``.

    The ``WHERE paused_at IS NULL`` lets the database decide which of two simultaneous
    pauses was first, so the first pauser and time are the ones kept.
    """
    result = await db.execute(
        update(Workflow)
        .where(Workflow.name == name, Workflow.paused_at.is_(None))
        .values(paused_at=now, paused_by=by, paused_reason=reason)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_paused(
    db: AsyncSession, name: str
) -> tuple[str | None, datetime, str | None] | None:
    """Release the switch; returns who paused, when and why, or None if it was not paused.

    The row is locked while read (PostgreSQL; SQLite writers are serialised anyway) and the
    update is conditional on the pause it read, so two resumes cannot both release it.
    """
    found = await db.execute(
        select(Workflow.paused_by, Workflow.paused_at, Workflow.paused_reason)
        .where(Workflow.name == name, Workflow.paused_at.is_not(None))
        .with_for_update()
    )
    row = found.one_or_none()
    if row is None or row.paused_at is None:
        return None
    result = await db.execute(
        update(Workflow)
        .where(Workflow.name == name, Workflow.paused_at == row.paused_at)
        .values(paused_at=None, paused_by=None, paused_reason=None)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return row.paused_by, row.paused_at, row.paused_reason


async def list_paused_workflows(db: AsyncSession) -> Sequence[Workflow]:
    """Every workflow whose switch is thrown, including the row for all workflows (``*``)."""
    query = select(Workflow).where(Workflow.paused_at.is_not(None)).order_by(Workflow.name)
    return (await db.execute(query)).scalars().all()


async def read_modes(db: AsyncSession, names: Iterable[str]) -> dict[str, str | None]:
    """The mode each workflow last started in (None before the first start that noted it)."""
    query = select(Workflow.name, Workflow.mode).where(Workflow.name.in_(sorted(set(names))))
    return {row.name: row.mode for row in (await db.execute(query)).all()}


async def set_mode(db: AsyncSession, name: str, *, was: str | None, now_in: str) -> bool:
    """Move ``name`` from mode ``was`` to ``now_in``; False when another process already did.

    Conditional on the mode read, so of several servers starting at once only one records
    the change.
    """
    condition = Workflow.mode.is_(None) if was is None else Workflow.mode == was
    result = await db.execute(
        update(Workflow).where(Workflow.name == name, condition).values(mode=now_in)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
