"""Counts for ``/handrail status``: each one a grouped query served by an existing index."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Alert, Handoff, OutboxMessage

#: Outbox states that are not settled: what "backlog" means.
BACKLOG = ("pending", "sending", "held", "failed")


async def count_pending_handoffs(
    db: AsyncSession, workflows: Collection[str]
) -> list[tuple[str, int, datetime]]:
    """(workflow, pending handoffs, oldest opened at) for each workflow that has any."""
    if not workflows:
        return []
    result = await db.execute(
        select(Handoff.workflow, func.count(), func.min(Handoff.created_at))
        .where(Handoff.workflow.in_(list(workflows)), Handoff.status == "pending")
        .group_by(Handoff.workflow)
        .order_by(Handoff.workflow)
    )
    return [(name, int(count), _aware(oldest)) for name, count, oldest in result.all()]


async def list_firing_alerts(
    db: AsyncSession, workflows: Collection[str], *, limit: int
) -> Sequence[Alert]:
    """Firing alerts of ``workflows``, most recently seen first."""
    if not workflows:
        return []
    result = await db.execute(
        select(Alert)
        .where(Alert.workflow.in_(list(workflows)), Alert.status == "firing")
        .order_by(Alert.last_seen.desc())
        .limit(limit)
    )
    return result.scalars().all()


async def count_outbox_backlog(db: AsyncSession) -> list[tuple[str, int, datetime]]:
    """(status, rows, oldest created at) for every unsettled outbox state that has rows."""
    result = await db.execute(
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(BACKLOG))
        .group_by(OutboxMessage.status)
    )
    return [(status, int(count), _aware(oldest)) for status, count, oldest in result.all()]


def _aware(value: datetime) -> datetime:
    """A guard for drivers that hand an aggregate back without the column's type."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
