"""Queries for the alert rules that do not read events: stale handoffs and token hygiene.

Both are bounded by what is live, not by history: pending handoffs come through
``ix_handoffs_workflow_status_created_at``, rejected tokens through
``ix_credentials_rejected_at``, and the credentials table holds one row per token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Credential, Handoff, OutboxMessage


async def list_pending_handoffs(
    db: AsyncSession, *, workflows: Sequence[str], opened_before: datetime, limit: int
) -> Sequence[Handoff]:
    """Pending handoffs of ``workflows`` opened at or before ``opened_before``, oldest first."""
    result = await db.execute(
        select(Handoff)
        .where(
            Handoff.workflow.in_(list(workflows)),
            Handoff.status == "pending",
            Handoff.created_at <= opened_before,
        )
        .order_by(Handoff.created_at)
        .limit(limit)
    )
    return result.scalars().all()


async def list_unreminded_handoffs(
    db: AsyncSession, *, workflow: str, opened_before: datetime, key_suffix: str, limit: int
) -> Sequence[Handoff]:
    """Pending handoffs with a message, opened before the cut-off, and not reminded yet.

    "Reminded" is the reminder's own outbox row (``handoff:<id><key_suffix>``), found
    through the outbox's unique key: the reminder is its own record, so a tick that runs
    twice, or two instances, queue it once.
    """
    reminder_key = literal("handoff:") + Handoff.id + literal(key_suffix)
    result = await db.execute(
        select(Handoff)
        .where(
            Handoff.workflow == workflow,
            Handoff.status == "pending",
            Handoff.created_at <= opened_before,
            Handoff.channel.is_not(None),
            ~exists().where(OutboxMessage.dedupe_key == reminder_key),
        )
        .order_by(Handoff.created_at)
        .limit(limit)
    )
    return result.scalars().all()


async def note_rejected_credential(db: AsyncSession, credential_id: str, now: datetime) -> None:
    """Count one use of a revoked or expired token: a counter, never a row per attempt."""
    await db.execute(
        update(Credential)
        .where(Credential.id == credential_id)
        .values(rejected_at=now, rejected_count=Credential.rejected_count + 1)
    )


async def list_rejected_since(db: AsyncSession, since: datetime) -> Sequence[Credential]:
    """Credentials presented after revocation or expiry at or after ``since``."""
    result = await db.execute(select(Credential).where(Credential.rejected_at >= since))
    return result.scalars().all()


async def list_live_credentials(db: AsyncSession) -> Sequence[Credential]:
    """Every credential not revoked (the hygiene job reads them once a day)."""
    result = await db.execute(
        select(Credential).where(Credential.revoked_at.is_(None)).order_by(Credential.created_at)
    )
    return result.scalars().all()


async def get_credential(db: AsyncSession, credential_id: str) -> Credential | None:
    return await db.get(Credential, credential_id)
