"""``handrail audit verify``: walk the whole chain and name the first entry that breaks it.

The chain is read in ID order as a stream (a batch at a time, so memory stays flat over
millions of entries) and each entry is checked against the one before it: its hash is
re-computed (an edit shows as a hash mismatch), its ``prev_hash`` must be the previous
hash (an entry rewritten with a fresh hash breaks the link of the next one), and its
sequence number must follow on (a gap is a deleted entry; a step back or a swap is an
entry moved). Then every decision row is compared with the entry that recorded it, and
every decision entry must still have its row; so is every quorum vote
(``workflows.audit.verify_votes``). What no check inside the database can see
is a chain cut short or rewritten from some point to its end: that is what publishing the
head (``handrail audit head``) and checking it later (``--head SEQ:HASH``) is for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import DECIDED, GENESIS_HASH, details_of_decision, entry_hash
from store.models import AuditEntry, Decision, Handoff
from store.repositories.audit import get_audit_entry_by_sequence
from workflows.audit.verify_votes import first_mismatched_vote
from workflows.lifecycle.retention import ERASED, PURGED
from workflows.review.approval import approval_digest

#: Rows fetched per round trip while streaming.
BATCH = 2000


@dataclass(frozen=True, slots=True)
class Break:
    """The first thing found wrong, named so an auditor can go straight to it."""

    where: str
    reason: str
    missing_sequence: int | None = None
    """For a gap: the first sequence number that should have come here."""

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    decisions: int
    head: tuple[int, str] | None
    broken: Break | None


async def verify_audit_log(
    db: AsyncSession, *, published: tuple[int, str] | None = None
) -> Verification:
    """Check the chain, the decisions against it and, if given, a published head."""
    entries, head, broken = await _verify_chain(db)
    decisions = 0
    if broken is None:
        decisions, broken = await _verify_decisions(db)
    if broken is None:
        vote = await first_mismatched_vote(db)
        broken = None if vote is None else Break(*vote)
    if broken is None:
        broken = await _orphan_decision_entry(db)
    if broken is None and published is not None:
        broken = await _check_published_head(db, published)
    return Verification(entries=entries, decisions=decisions, head=head, broken=broken)


def _entry_name(row: Row[Any]) -> str:
    return f"entry {row.id} (sequence {row.sequence})"


async def _stream(db: AsyncSession, query: Any) -> AsyncIterator[Row[Any]]:
    result = await db.stream(query.execution_options(yield_per=BATCH))
    async for row in result:
        yield row


async def _verify_chain(db: AsyncSession) -> tuple[int, tuple[int, str] | None, Break | None]:
    """Entries in ID order, each checked against the one before it."""
    query = select(
        AuditEntry.id,
        AuditEntry.sequence,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.workflow,
        AuditEntry.details,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    ).order_by(AuditEntry.id)
    count = 0
    previous: Row[Any] | None = None
    async for current in _stream(db, query):
        broken = _check_link(previous, current)
        if broken is not None:
            return count, None, await _moved_or_deleted(db, broken, current)
        count += 1
        previous = current
    head = None if previous is None else (previous.sequence, previous.hash)
    return count, head, None


async def _moved_or_deleted(db: AsyncSession, broken: Break, current: Row[Any]) -> Break:
    """A gap is a deletion only if the missing number is nowhere in the log: one lookup,
    by the unique index, so telling the two apart costs no memory."""
    missing = broken.missing_sequence
    if missing is None or await get_audit_entry_by_sequence(db, missing) is None:
        return broken
    return Break(broken.where, f"out of order: sequence {current.sequence} where {missing} belongs")


def _check_link(previous: Row[Any] | None, current: Row[Any]) -> Break | None:
    name = _entry_name(current)
    recomputed = entry_hash(
        sequence=current.sequence,
        at=current.at,
        actor=current.actor,
        action=current.action,
        workflow=current.workflow,
        details=current.details,
        prev_hash=current.prev_hash,
    )
    if recomputed != current.hash:
        return Break(name, "hash mismatch: the entry was changed after it was written")
    expected = 1 if previous is None else previous.sequence + 1
    if current.sequence < expected:
        return Break(name, f"out of order: sequence {current.sequence} where {expected} belongs")
    if current.sequence > expected:
        missing = (
            str(expected)
            if current.sequence == expected + 1
            else f"{expected}-{current.sequence - 1}"
        )
        return Break(
            name, f"missing sequence number {missing} before it: deleted", missing_sequence=expected
        )
    linked = GENESIS_HASH if previous is None else previous.hash
    if current.prev_hash != linked:
        before = "the start of the chain" if previous is None else _entry_name(previous)
        return Break(name, f"prev_hash does not link to {before}")
    return None


async def _verify_decisions(db: AsyncSession) -> tuple[int, Break | None]:
    """Each decision row against the entry that recorded it (digests, never texts)."""
    query = (
        select(
            Decision,
            Handoff.action.label("handoff_action"),
            Handoff.payload.label("handoff_payload"),
            AuditEntry.sequence.label("entry_sequence"),
            AuditEntry.action.label("entry_action"),
            AuditEntry.details.label("entry_details"),
        )
        .join(Handoff, Handoff.id == Decision.handoff_id)
        .outerjoin(AuditEntry, AuditEntry.sequence == Decision.audit_sequence)
        .order_by(Decision.id)
    )
    count = 0
    async for row in _stream(db, query):
        decision: Decision = row.Decision
        db.expunge(decision)  # keeps the identity map, and so memory, flat
        count += 1
        broken = _compare_decision(decision, row)
        if broken is not None:
            return count, broken
    return count, None


def _compare_decision(decision: Decision, row: Row[Any]) -> Break | None:
    name = f"decision {decision.id} (handoff {decision.handoff_id})"
    if row.entry_sequence is None or row.entry_action != DECIDED:
        return Break(name, "has no audit entry recording it")
    recorded = {k: v for k, v in (row.entry_details or {}).items() if k != "backfilled"}
    expected = details_of_decision(decision)
    differing = sorted(
        key for key in expected.keys() | recorded.keys() if expected.get(key) != recorded.get(key)
    )
    if differing:
        return Break(
            name,
            f"does not match entry sequence {row.entry_sequence}: {', '.join(differing)} differ",
        )
    if decision.approval_digest is not None and decision.approval_digest != approval_digest(
        action=row.handoff_action, final_text=decision.final_text, payload=row.handoff_payload
    ):
        return Break(name, "approval_digest no longer matches the handoff's action and payload")
    return None


async def _orphan_decision_entry(db: AsyncSession) -> Break | None:
    """The first decision entry whose decision row is gone, unless the chain itself says why.

    Erasure and the retention purge delete decisions with their runs, and append an entry
    saying so: an erasure names its runs, a retention purge its workflow. A decision entry
    is accounted for when a later erasure names its run, or a later purge its workflow.
    """
    query = (
        select(AuditEntry.id, AuditEntry.sequence, AuditEntry.workflow, AuditEntry.details)
        .outerjoin(Decision, Decision.audit_sequence == AuditEntry.sequence)
        .where(AuditEntry.action == DECIDED, Decision.id.is_(None))
        .order_by(AuditEntry.sequence)
    )
    removals = await _removals(db)
    for row in (await db.execute(query)).all():
        details = row.details or {}
        if _accounted_for(removals, row.sequence, row.workflow, details.get("run_id")):
            continue
        handoff = details.get("handoff_id")
        return Break(_entry_name(row), f"records a decision on handoff {handoff} whose row is gone")
    return None


#: (sequence, workflow, run IDs named) of each erasure and retention purge entry.
Removal = tuple[int, str | None, frozenset[str]]


async def _removals(db: AsyncSession) -> list[Removal]:
    query = select(AuditEntry.sequence, AuditEntry.workflow, AuditEntry.details).where(
        AuditEntry.action.in_((ERASED, PURGED))
    )
    return [
        (row.sequence, row.workflow, frozenset((row.details or {}).get("run_ids") or ()))
        for row in (await db.execute(query)).all()
    ]


def _accounted_for(
    removals: list[Removal], sequence: int, workflow: str | None, run_id: object
) -> bool:
    for removed_at, removed_workflow, run_ids in removals:
        if removed_at <= sequence:
            continue
        if run_id in run_ids or (not run_ids and removed_workflow == workflow):
            return True
    return False


async def _check_published_head(db: AsyncSession, published: tuple[int, str]) -> Break | None:
    sequence, digest = published
    entry = await get_audit_entry_by_sequence(db, sequence)
    where = f"published head {sequence}"
    if entry is None:
        return Break(where, "is no longer in the chain: the chain was cut or rewritten")
    if entry.hash != digest:
        return Break(where, f"entry {entry.id} now has hash {entry.hash}: the chain was rewritten")
    return None
