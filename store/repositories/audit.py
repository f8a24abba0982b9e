"""The audit log: who changed what, when and why. Rows are only ever added.

Each entry is a link of a hash chain (``store.audit_chain``): it carries the hash of the
entry before it, so an edit, a deletion or a reordering shows when the chain is verified.
Appends are serialised so the chain never forks: PostgreSQL takes a transaction-level
advisory lock (per schema) before reading the head, held until the transaction ends;
SQLite's ``BEGIN IMMEDIATE`` already holds its one write lock. The unique ``sequence``
index refuses a fork even if a writer skipped the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import GENESIS_HASH, entry_hash
from store.models import AuditEntry

#: The advisory lock key: one chain per schema, so two installations in one database
#: (or two test schemas) do not wait for each other.
_CHAIN_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('handrail.audit_log:' || current_schema()))"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryDraft:
    """An entry before it has its place in the chain: what it records, not yet linked."""

    actor: str
    action: str
    workflow: str | None
    details: dict[str, Any] | None
    at: datetime


async def create_audit_entry(
    db: AsyncSession,
    *,
    actor: str,
    action: str,
    workflow: str | None,
    details: dict[str, Any] | None,
    now: datetime,
) -> AuditEntry:
    """Append an entry to the chain and flush, so its ID can be referred to in the same
    transaction. The lock is held until that transaction commits or rolls back."""
    draft = EntryDraft(actor=actor, action=action, workflow=workflow, details=details, at=now)
    [entry] = await create_audit_entries(db, [draft])
    return entry


async def create_audit_entries(db: AsyncSession, drafts: Sequence[EntryDraft]) -> list[AuditEntry]:
    """Append ``drafts`` to the chain in their order, with one read of the head and one
    insert: the hashes are linked in memory, each over the one before, under the lock
    that every append takes, so a batch of decisions costs the chain two statements
    rather than two per decision. Flushed, like a single entry."""
    if not drafts:
        return []
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(_CHAIN_LOCK)
    head = await get_chain_head(db)
    sequence = 0 if head is None else head.sequence
    prev_hash = GENESIS_HASH if head is None else head.hash
    entries: list[AuditEntry] = []
    for draft in drafts:
        sequence += 1
        entry = AuditEntry(
            sequence=sequence,
            at=draft.at,
            actor=draft.actor,
            action=draft.action,
            workflow=draft.workflow,
            details=draft.details,
            prev_hash=prev_hash,
            hash=entry_hash(
                sequence=sequence,
                at=draft.at,
                actor=draft.actor,
                action=draft.action,
                workflow=draft.workflow,
                details=draft.details,
                prev_hash=prev_hash,
            ),
        )
        entries.append(entry)
        prev_hash = entry.hash
    db.add_all(entries)
    await db.flush()
    return entries


async def get_chain_head(db: AsyncSession) -> AuditEntry | None:
    """The last entry of the chain, or None while the log is empty."""
    query = select(AuditEntry).order_by(AuditEntry.sequence.desc()).limit(1)
    return (await db.execute(query)).scalar_one_or_none()


async def get_audit_entry(db: AsyncSession, entry_id: int) -> AuditEntry | None:
    return await db.get(AuditEntry, entry_id)


async def get_audit_entry_by_sequence(db: AsyncSession, sequence: int) -> AuditEntry | None:
    query = select(AuditEntry).where(AuditEntry.sequence == sequence)
    return (await db.execute(query)).scalar_one_or_none()


async def list_audit_entries(
    db: AsyncSession, *, workflow: str | None = None, limit: int = 100
) -> Sequence[AuditEntry]:
    """Newest first; with ``workflow``, only that workflow's entries."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if workflow is not None:
        query = query.where(AuditEntry.workflow == workflow)
    return (await db.execute(query)).scalars().all()


async def list_entries_of_action(
    db: AsyncSession, *, action: str, workflow: str, limit: int = 50
) -> Sequence[AuditEntry]:
    """``workflow``'s newest entries of one ``action`` (``ix_audit_log_workflow_at``)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.workflow == workflow, AuditEntry.action == action)
        .order_by(AuditEntry.at.desc(), AuditEntry.sequence.desc())
        .limit(limit)
    )
    return (await db.execute(query)).scalars().all()
