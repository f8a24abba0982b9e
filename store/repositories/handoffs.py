"""Handoff and decision queries, including the one write that decides who was first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
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
    which of two simultaneous clicks wins; ``expires_at > now`` makes it refuse a click
    that came after the review timeout, even before the expiry job has run.
    """
    result = await db.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id,
            Handoff.status == "pending",
            or_(Handoff.expires_at.is_(None), Handoff.expires_at > now),
        )
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


async def expire_overdue_handoff(
    db: AsyncSession, handoff_id: str, now: datetime
) -> Handoff | None:
    """Expire one handoff if it is still pending and past its expiry; None otherwise."""
    result = await db.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "pending", Handoff.expires_at <= now)
        .values(status="expired", decided_at=now)
        .returning(Handoff)
    )
    return result.scalar_one_or_none()


async def release_held_decisions(db: AsyncSession, workflow: str, now: datetime) -> int:
    """Release every decision of ``workflow`` held while it was paused."""
    held = select(Handoff.id).where(Handoff.workflow == workflow)
    result = await db.execute(
        update(Decision)
        .where(Decision.released_at.is_(None), Decision.handoff_id.in_(held))
        .values(released_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
