"""The entries each audited change appends to the chain, written in its own transaction.

Decisions record digests of their texts, never the texts: the log proves what was
decided without becoming a second copy of what the redaction kept out of the ledger.
Pauses and resumes are appended by ``workflows.pause.switch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import (
    ACTED,
    APPROVAL_VOTED,
    DECIDED,
    EXPIRED,
    TOKEN_CREATED,
    TOKEN_REVOKED,
    details_of_decision,
    vote_details,
)
from store.models import ApprovalVote, AuditEntry, Credential, Decision, Handoff
from store.repositories.audit import EntryDraft, create_audit_entries, create_audit_entry

#: Who the log names for what Handrail does on its own (an expiry).
SYSTEM_ACTOR = "handrail"


async def append_decision_entry(
    db: AsyncSession, *, decision: Decision, workflow: str
) -> AuditEntry:
    """Record ``decision`` and link the row to its entry, which ``audit verify`` compares."""
    [entry] = await append_decision_entries(db, [(decision, workflow)])
    return entry


async def append_decision_entries(
    db: AsyncSession, decisions: Sequence[tuple[Decision, str]]
) -> list[AuditEntry]:
    """Record each ``(decision, its workflow)`` in order, with one append to the chain, and
    link each row to its entry (set before the row is inserted, or written at the flush)."""
    entries = await create_audit_entries(
        db,
        [
            EntryDraft(
                actor=decision.reviewer,
                action=DECIDED,
                workflow=workflow,
                details=details_of_decision(decision),
                at=decision.decided_at,
            )
            for decision, workflow in decisions
        ],
    )
    for (decision, _), entry in zip(decisions, entries, strict=True):
        decision.audit_sequence = entry.sequence
    return entries


async def append_vote_entry(db: AsyncSession, *, vote: ApprovalVote, workflow: str) -> AuditEntry:
    """One approval towards a quorum, with the digest of the text it approved."""
    return await create_audit_entry(
        db,
        actor=vote.reviewer,
        action=APPROVAL_VOTED,
        workflow=workflow,
        details=vote_details(
            handoff_id=vote.handoff_id,
            round=vote.round,
            groups=list(vote.groups),
            approval_digest=vote.approval_digest,
        ),
        now=vote.voted_at,
    )


async def append_expiry_entry(db: AsyncSession, *, handoff: Handoff, now: datetime) -> None:
    """An expiry is a decision no one made: recorded so the log shows it was not approved."""
    await create_audit_entry(
        db,
        actor=SYSTEM_ACTOR,
        action=EXPIRED,
        workflow=handoff.workflow,
        details={"handoff_id": handoff.id, "run_id": handoff.run_id, "outcome": "expired"},
        now=now,
    )


async def append_act_entry(
    db: AsyncSession, *, decision: Decision, workflow: str, actor: str, now: datetime
) -> None:
    """The automation acted on an approval, with the digest it was given."""
    await create_audit_entry(
        db,
        actor=actor,
        action=ACTED,
        workflow=workflow,
        details={
            "handoff_id": decision.handoff_id,
            "run_id": decision.run_id,
            "approval_digest": decision.approval_digest,
        },
        now=now,
    )


async def append_token_entry(
    db: AsyncSession, *, credential: Credential, created: bool, actor: str, now: datetime
) -> None:
    """A token made or revoked: its prefix and scopes, never its secret or hash."""
    await create_audit_entry(
        db,
        actor=actor,
        action=TOKEN_CREATED if created else TOKEN_REVOKED,
        workflow=credential.workflow,
        details={
            "credential_id": credential.id,
            "prefix": credential.prefix,
            "scopes": list(credential.scopes),
            "label": credential.label,
        },
        now=now,
    )
