"""Handoff and decision queries, including the one write that decides who was first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff


def create_handoff(db: AsyncSession, handoff: Handoff) -> None:
    db.add(handoff)


async def get_handoff(db: AsyncSession, handoff_id: str) -> Handoff | None:
    return await db.get(Handoff, handoff_id)


async def get_decision(db: AsyncSession, handoff_id: str) -> Decision | None:
    result = await db.execute(select(Decision).where(Decision.handoff_id == handoff_id))
    return result.scalar_one_or_none()


async def claim_pending_handoff(
    db: AsyncSession, handoff_id: str, status: str, now: datetime
) -> bool:
    """Move a pending handoff to ``status``; False when someone else got there first.

    The ``WHERE status = 'pending'`` makes the database, not the application, decide
    which of two simultaneous clicks wins.
    """
    result = await db.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "pending")
        .values(status=status, decided_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def create_decision(db: AsyncSession, decision: Decision) -> None:
    db.add(decision)


async def expire_overdue_handoffs(db: AsyncSession, now: datetime) -> Sequence[Handoff]:
    """Mark every pending handoff past its expiry as expired; returns those it changed."""
    result = await db.execute(
        update(Handoff)
        .where(Handoff.status == "pending", Handoff.expires_at <= now)
        .values(status="expired", decided_at=now)
        .returning(Handoff)
    )
    return result.scalars().all()


async def release_held_decisions(db: AsyncSession, workflow: str, now: datetime) -> int:
    """Release every decision of ``workflow`` held while it was paused."""
    held = select(Handoff.id).where(Handoff.workflow == workflow)
    result = await db.execute(
        update(Decision)
        .where(Decision.released_at.is_(None), Decision.handoff_id.in_(held))
        .values(released_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
