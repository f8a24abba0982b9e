"""Workflow rows: the pause switch and the anchor for foreign keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Workflow
from store.repositories.runs import insert_ignoring_conflicts


async def get_workflow(db: AsyncSession, name: str) -> Workflow | None:
    return await db.get(Workflow, name)


async def list_workflows(db: AsyncSession) -> Sequence[Workflow]:
    return (await db.execute(select(Workflow).order_by(Workflow.name))).scalars().all()


async def create_missing_workflows(db: AsyncSession, names: Iterable[str], now: datetime) -> None:
    rows = [{"name": name, "created_at": now} for name in names]
    if rows:
        await db.execute(insert_ignoring_conflicts(db, Workflow), rows)
