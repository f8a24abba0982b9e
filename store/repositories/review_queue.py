"""Pending cases that look alike: one workflow, one action, still open to a decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Handoff


async def list_similar_pending(
    db: AsyncSession, *, workflow: str, action: str, now: datetime, limit: int
) -> Sequence[Handoff]:
    """Pending, unclaimed, unexpired handoffs of ``workflow`` asking about ``action``,
    oldest first. Shadow cases and tool failures are never batch-approved."""
    result = await db.execute(
        select(Handoff)
        .where(
            Handoff.workflow == workflow,
            Handoff.action == action,
            Handoff.status == "pending",
            Handoff.claimed_by.is_(None),
            Handoff.kind != "tool_failure",
            Handoff.shadow.is_(False),
            or_(Handoff.expires_at.is_(None), Handoff.expires_at > now),
        )
        .order_by(Handoff.created_at, Handoff.id)
        .limit(limit)
    )
    return result.scalars().all()
