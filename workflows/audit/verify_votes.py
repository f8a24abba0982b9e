"""Each quorum vote row against the audit entry that recorded it (``audit verify``).

A vote added, edited or re-pointed in the database after the fact no longer matches its
entry (or has none), and the first such row is named. Votes of erased runs go with their
handoffs; their entries stay, as the decisions' do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import APPROVAL_VOTED, vote_details
from store.models import ApprovalVote, AuditEntry

#: Rows fetched per round trip while streaming.
BATCH = 2000


async def first_mismatched_vote(db: AsyncSession) -> tuple[str, str] | None:
    """(which vote, why) for the first vote row that does not match its entry, or None."""
    query = (
        select(
            ApprovalVote,
            AuditEntry.sequence.label("entry_sequence"),
            AuditEntry.action.label("entry_action"),
            AuditEntry.actor.label("entry_actor"),
            AuditEntry.details.label("entry_details"),
        )
        .outerjoin(AuditEntry, AuditEntry.sequence == ApprovalVote.audit_sequence)
        .order_by(ApprovalVote.id)
        .execution_options(yield_per=BATCH)
    )
    result = await db.stream(query)
    async for row in result:
        vote: ApprovalVote = row.ApprovalVote
        db.expunge(vote)
        broken = _compare(vote, row)
        if broken is not None:
            return broken
    return None


def _compare(vote: ApprovalVote, row: Row[Any]) -> tuple[str, str] | None:
    name = f"approval vote {vote.id} (handoff {vote.handoff_id})"
    if row.entry_sequence is None or row.entry_action != APPROVAL_VOTED:
        return name, "has no audit entry recording it"
    expected = vote_details(
        handoff_id=vote.handoff_id,
        round=vote.round,
        groups=list(vote.groups),
        approval_digest=vote.approval_digest,
    )
    recorded = row.entry_details or {}
    differing = sorted(
        key for key in expected.keys() | recorded.keys() if expected.get(key) != recorded.get(key)
    )
    if row.entry_actor != vote.reviewer:
        differing.append("reviewer")
    if differing:
        return name, (
            f"does not match entry sequence {row.entry_sequence}: {', '.join(differing)} differ"
        )
    return None
