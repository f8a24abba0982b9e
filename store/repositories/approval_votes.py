"""Approval votes towards a quorum, and the writes that decide whose vote completes it.

Both writes are conditional, so the database decides the races: ``hold_round`` locks the
pending, unclaimed handoff in the round the voter saw (PostgreSQL holds the row lock to
the commit; SQLite's one write lock does the same), and the unique (handoff, round,
reviewer) index refuses a second vote by the same person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ApprovalVote, Handoff


async def hold_round(
    db: AsyncSession,
    handoff_id: str,
    *,
    seen_round: int,
    now: datetime,
    new_round: bool = False,
    edited_text: str | None = None,
) -> Handoff | None:
    """Lock the handoff for a vote of ``seen_round``; None if it moved on meanwhile.

    It moved on when it was decided, claimed (the quorum completed, or a rejection), expired
    or edited into a new round. With ``edited_text``, the handoff goes to the next round,
    whose approvals are of that text.
    """
    values: dict[str, object] = {"quorum_round": Handoff.quorum_round}
    if new_round:
        values = {"quorum_round": Handoff.quorum_round + 1, "quorum_text": edited_text}
    result = await db.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id,
            Handoff.status == "pending",
            Handoff.claimed_by.is_(None),
            Handoff.quorum_round == seen_round,
            or_(Handoff.expires_at.is_(None), Handoff.expires_at > now),
        )
        .values(**values)
        .returning(Handoff)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add_vote(db: AsyncSession, vote: ApprovalVote) -> int | None:
    """Insert ``vote``; its ID, or None when this reviewer already approved this round."""
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await db.execute(
        insert(ApprovalVote)
        .values(
            handoff_id=vote.handoff_id,
            round=vote.round,
            reviewer=vote.reviewer,
            groups=vote.groups,
            approval_digest=vote.approval_digest,
            voted_at=vote.voted_at,
        )
        .on_conflict_do_nothing(index_elements=["handoff_id", "round", "reviewer"])
        .returning(ApprovalVote.id)
    )
    inserted: int | None = result.scalar_one_or_none()
    return inserted


async def link_vote_entry(db: AsyncSession, vote_id: int, sequence: int) -> None:
    """Point the vote at the audit entry that records it."""
    await db.execute(
        update(ApprovalVote).where(ApprovalVote.id == vote_id).values(audit_sequence=sequence)
    )


async def list_votes(db: AsyncSession, handoff_id: str, round: int) -> Sequence[ApprovalVote]:
    """The round's votes in the order they were cast."""
    result = await db.execute(
        select(ApprovalVote)
        .where(ApprovalVote.handoff_id == handoff_id, ApprovalVote.round == round)
        .order_by(ApprovalVote.id)
    )
    return result.scalars().all()


async def claim_for_quorum(
    db: AsyncSession, handoff_id: str, *, reviewer: str, outcome: str, now: datetime
) -> bool:
    """Claim the handoff for the vote that completed its quorum (held by ``hold_round``)."""
    result = await db.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "pending", Handoff.claimed_by.is_(None))
        .values(claimed_by=reviewer, claimed_outcome=outcome, claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_quorum_state(db: AsyncSession, handoff_id: str, state: dict[str, object]) -> None:
    await db.execute(update(Handoff).where(Handoff.id == handoff_id).values(quorum=state))
