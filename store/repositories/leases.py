"""Leases: which instance runs a scheduled job, decided by one statement in SQL.

``take_lease`` is an ``INSERT … ON CONFLICT (name) DO UPDATE … WHERE`` the lease is ours
already or has run out; it returns whether we hold it afterwards. Two instances racing
for the same lease cannot both win: the database serialises the upsert on the primary
key, and the loser's ``WHERE`` sees the winner's unexpired row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Lease


async def take_lease(
    db: AsyncSession, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; True if held."""
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert(Lease) if dialect == "postgresql" else sqlite.insert(Lease)
    stmt = insert.values(name=name, holder=holder, expires_at=now + ttl)
    upsert = stmt.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=or_(Lease.holder == stmt.excluded.holder, Lease.expires_at <= now),
    ).returning(Lease.holder)
    return (await db.execute(upsert)).scalar_one_or_none() == holder


async def release_leases(db: AsyncSession, *, holder: str) -> int:
    """Give up every lease ``holder`` has (on shutdown), so another instance takes over now."""
    result = await db.execute(delete(Lease).where(Lease.holder == holder))
    return int(result.rowcount)  # type: ignore[attr-defined]
