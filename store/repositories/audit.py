"""The audit log: who changed what, when and why. Rows are only ever added here; the
retention purge deletes them after their workflow's ``audit_retention``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditEntry


async def create_audit_entry(
    db: AsyncSession,
    *,
    actor: str,
    action: str,
    workflow: str | None,
    details: dict[str, Any] | None,
    now: datetime,
) -> AuditEntry:
    """Add an entry and flush, so its ID can be referred to in the same transaction."""
    entry = AuditEntry(at=now, actor=actor, action=action, workflow=workflow, details=details)
    db.add(entry)
    await db.flush()
    return entry


async def get_audit_entry(db: AsyncSession, entry_id: int) -> AuditEntry | None:
    return await db.get(AuditEntry, entry_id)


async def list_audit_entries(
    db: AsyncSession, *, workflow: str | None = None, limit: int = 100
) -> Sequence[AuditEntry]:
    """Newest first; with ``workflow``, only that workflow's entries."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if workflow is not None:
        query = query.where(AuditEntry.workflow == workflow)
    return (await db.execute(query)).scalars().all()
