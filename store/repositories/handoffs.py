"""Handoff and decision queries, including the one write that decides who was first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from store.models import Decision, Handoff
from store.types import UTCDateTime


def create_handoff(db: AsyncSession, handoff: Handoff) -> None:
    db.add(handoff)


async def get_handoff(db: AsyncSession, handoff_id: str) -> Handoff | None:
    return await db.get(Handoff, handoff_id)


async def list_handoffs(db: AsyncSession, handoff_ids: Sequence[str]) -> Sequence[Handoff]:
    """The handoffs among ``handoff_ids`` that exist, in no particular order."""
    result = await db.execute(select(Handoff).where(Handoff.id.in_(set(handoff_ids))))
    return result.scalars().all()


async def list_open_handoff_ids(
    db: AsyncSession, *, workflows: Sequence[str], limit: int
) -> Sequence[str]:
    """IDs of pending handoffs nobody has claimed in ``workflows``, oldest first."""
    if not workflows:
        return []
    result = await db.execute(
        select(Handoff.id)
        .where(
            Handoff.workflow.in_(set(workflows)),
            Handoff.status == "pending",
            Handoff.claimed_by.is_(None),
        )
        .order_by(Handoff.created_at, Handoff.id)
        .limit(limit)
    )
    return result.scalars().all()


async def get_decision(db: AsyncSession, handoff_id: str) -> Decision | None:
    result = await db.execute(select(Decision).where(Decision.handoff_id == handoff_id))
    return result.scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class PendingClaim:
    """A decision's move of its pending handoff to ``status`` at ``now``."""

    handoff: Handoff
    status: str
    now: datetime
    reviewer: str
    outcome: str


async def claim_pending_handoffs(db: AsyncSession, claims: Sequence[PendingClaim]) -> set[str]:
    """Move each pending handoff to its claim's status, in one statement; the IDs moved.

    The ``WHERE status = 'pending'`` makes the database, not the application, decide
    which of two simultaneous clicks wins; ``expires_at > now`` makes it refuse a click
    that came after the review timeout, even before the expiry job has run. A handoff
    claimed by a click (``claim_handoffs``) moves only for that reviewer and outcome.
    Give each handoff at most one claim. The rows moved are updated in the session as
    they are in the database, without another statement.
    """
    if not claims:
        return set()
    if len(claims) == 1:
        [one] = claims
        ids: Any = Handoff.id == one.handoff.id
        status: Any = one.status
        now: Any = one.now
        reviewer: Any = one.reviewer
        outcome: Any = one.outcome
    else:
        ids = Handoff.id.in_([claim.handoff.id for claim in claims])
        status = case({c.handoff.id: c.status for c in claims}, value=Handoff.id)
        now = case({c.handoff.id: literal(c.now, UTCDateTime()) for c in claims}, value=Handoff.id)
        reviewer = case({c.handoff.id: c.reviewer for c in claims}, value=Handoff.id)
        outcome = case({c.handoff.id: c.outcome for c in claims}, value=Handoff.id)
    result = await db.execute(
        update(Handoff)
        .where(
            ids,
            Handoff.status == "pending",
            or_(Handoff.expires_at.is_(None), Handoff.expires_at > now),
            or_(
                Handoff.claimed_by.is_(None),
                and_(Handoff.claimed_by == reviewer, Handoff.claimed_outcome == outcome),
            ),
        )
        .values(status=status, decided_at=now)
        .returning(Handoff.id)
        .execution_options(synchronize_session=False)
    )
    moved = set(result.scalars().all())
    for claim in claims:
        if claim.handoff.id in moved:
            set_committed_value(claim.handoff, "status", claim.status)
            set_committed_value(claim.handoff, "decided_at", claim.now)
    return moved


@dataclass(frozen=True, slots=True)
class HandoffClaim:
    """One click's claim: who, which outcome, when."""

    handoff_id: str
    reviewer: str
    outcome: str
    at: datetime


async def claim_handoffs(db: AsyncSession, claims: Sequence[HandoffClaim]) -> set[str]:
    """Claim each pending, unclaimed handoff that was not expired at its claim; the winners.

    One statement for many clicks (give each handoff at most one claim): this runs before
    the clicks are acknowledged. The first claim wins in the database, as the first
    decision does: whoever clicks or submits later finds the handoff claimed and is told
    who decided. A row locked by another transaction (PostgreSQL) is skipped rather than
    waited for: only a decision, an expiry or a claim writes a handoff, so a locked one is
    being taken, and the click is told so once that has committed.
    """
    if not claims:
        return set()
    ids = [claim.handoff_id for claim in claims]
    at = case(
        {claim.handoff_id: literal(claim.at, UTCDateTime()) for claim in claims},
        value=Handoff.id,
    )
    free = (
        select(Handoff.id)
        .where(
            Handoff.id.in_(ids),
            Handoff.status == "pending",
            Handoff.claimed_by.is_(None),
            or_(Handoff.expires_at.is_(None), Handoff.expires_at > at),
        )
        .with_for_update(skip_locked=True)
    )
    result = await db.execute(
        update(Handoff)
        .where(Handoff.id.in_(free))
        .values(
            claimed_by=case({c.handoff_id: c.reviewer for c in claims}, value=Handoff.id),
            claimed_outcome=case({c.handoff_id: c.outcome for c in claims}, value=Handoff.id),
            claimed_at=at,
        )
        .returning(Handoff.id)
    )
    return set(result.scalars().all())


async def list_claimed_handoffs(db: AsyncSession, *, limit: int) -> Sequence[Handoff]:
    """Pending handoffs whose claim waits to be recorded, oldest claim first."""
    result = await db.execute(
        select(Handoff)
        .where(Handoff.status == "pending", Handoff.claimed_at.is_not(None))
        .order_by(Handoff.claimed_at, Handoff.id)
        .limit(limit)
    )
    return result.scalars().all()


async def release_claim(db: AsyncSession, handoff_id: str) -> bool:
    """Let go of the claim on a still pending handoff; False when there was none to let go."""
    result = await db.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id, Handoff.status == "pending", Handoff.claimed_at.is_not(None)
        )
        .values(claimed_by=None, claimed_outcome=None, claimed_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def create_decision(db: AsyncSession, decision: Decision) -> None:
    db.add(decision)


async def expire_overdue_handoffs(db: AsyncSession, now: datetime) -> Sequence[Handoff]:
    """Mark every pending handoff past its expiry as expired; returns those it changed.

    A claimed handoff is never expired: the click came in time and its decision is on
    its way (``list_claimed_handoffs``).
    """
    result = await db.execute(
        update(Handoff)
        .where(Handoff.status == "pending", Handoff.expires_at <= now, Handoff.claimed_at.is_(None))
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
        .where(
            Handoff.id == handoff_id,
            Handoff.status == "pending",
            Handoff.expires_at <= now,
            Handoff.claimed_at.is_(None),
        )
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
