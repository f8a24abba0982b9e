"""The act on an approval: recorded once, decided by a conditional UPDATE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision


async def mark_decision_acted(
    db: AsyncSession, *, handoff_id: str, approval_digest: str, now: datetime
) -> bool:
    """Set ``acted_at`` if nobody has yet, for this very digest; False if it was taken.

    Two acts at once both run this UPDATE; the database lets exactly one of them match
    ``acted_at IS NULL``.
    """
    result = await db.execute(
        update(Decision)
        .where(
            Decision.handoff_id == handoff_id,
            Decision.approval_digest == approval_digest,
            Decision.acted_at.is_(None),
        )
        .values(acted_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
