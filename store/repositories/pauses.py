"""Queries the pause switch needs: the open handoffs to re-render and the held decisions."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff


async def list_pending_handoffs(db: AsyncSession, workflows: Collection[str]) -> Sequence[Handoff]:
    """Pending handoffs of ``workflows`` that have a Slack message, oldest first."""
    if not workflows:
        return []
    result = await db.execute(
        select(Handoff)
        .where(
            Handoff.workflow.in_(list(workflows)),
            Handoff.status == "pending",
            Handoff.channel.is_not(None),
        )
        .order_by(Handoff.created_at, Handoff.id)
    )
    return result.scalars().all()


async def list_held_handoff_ids(db: AsyncSession, workflow: str) -> list[str]:
    """Handoffs of ``workflow`` whose decision is held, in the order they were decided."""
    result = await db.execute(
        select(Decision.handoff_id)
        .join(Handoff, Handoff.id == Decision.handoff_id)
        .where(Handoff.workflow == workflow, Decision.released_at.is_(None))
        .order_by(Decision.decided_at, Decision.id)
    )
    return list(result.scalars().all())
