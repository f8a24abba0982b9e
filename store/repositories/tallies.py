"""The per-day tallies behind ``handrail stats``: the days they answer, reads, and folding.

Triggers (migration 0011) keep five tallies as signed deltas: every change to a handoff,
decision or gate question adds ``+1`` under what the row is now and ``-1`` under what it was.
Summing a day's deltas by key gives exactly what grouping that day's rows would, so a window
is read as its whole UTC days from here and its two partial days from the rows themselves.

Deltas pile up as the server runs; :class:`TallyFolder` replaces each touched day's deltas
with one row per key, on a timer. Folding changes how many rows hold the counts, never the
counts: a read in between sums the same totals, only from more rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    TallyCases,
    TallyGateVerdicts,
    TallyReviewerCases,
    TallyReviewerTimes,
    TallyReviewTimes,
)

#: The reading speed the triggers count "approved faster than reading" at (40 ms a
#: character, 3 s at least); a different speed is read from the rows instead.
READING_MS_PER_CHAR = 40
READING_FLOOR_MS = 3000

Tally = type[
    TallyCases | TallyReviewTimes | TallyReviewerCases | TallyReviewerTimes | TallyGateVerdicts
]
TALLIES: tuple[Tally, ...] = (
    TallyCases,
    TallyReviewTimes,
    TallyReviewerCases,
    TallyReviewerTimes,
    TallyGateVerdicts,
)


@dataclass(frozen=True, slots=True)
class Days:
    """Whole UTC days, first and last included, as ``YYYY-MM-DD``."""

    first: str
    last: str


def whole_days(
    start: datetime, end: datetime
) -> tuple[Days | None, list[tuple[datetime, datetime]]]:
    """Split ``[start, end)`` into the whole UTC days inside it and what is left at either end."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = datetime.combine(start.date(), time(), tzinfo=UTC)
    if first < start:
        first += timedelta(days=1)
    last = datetime.combine(end.date(), time(), tzinfo=UTC)
    if first >= last:
        return None, [(start, end)]
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return Days(first.date().isoformat(), (last - timedelta(days=1)).date().isoformat()), edges


async def read_tally(
    db: AsyncSession,
    table: Tally,
    *,
    workflow: str,
    days: Days,
    keys: Sequence[Any],
    sums: Sequence[str] = ("n",),
    where: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """``(*keys, *sums)`` of ``workflow``'s whole ``days`` in one tally, keys with no rows
    left out (a key whose deltas cancel out is a key no row has any more)."""
    columns = table.__table__.c
    query = (
        select(*keys, *(func.sum(columns[name]) for name in sums))
        .where(table.workflow == workflow, table.day.between(days.first, days.last), *where)
        .group_by(*keys)
        .having(func.sum(table.n) != 0)
    )
    return [tuple(row) for row in await db.execute(query)]


def _key_columns(table: Tally) -> list[Any]:
    return [c for c in table.__table__.columns if c.name not in ("id", "n", "fast")]


def _sum_columns(table: Tally) -> list[Any]:
    return [c for c in table.__table__.columns if c.name in ("n", "fast")]


@dataclass(slots=True)
class TallyFolder:
    """Folds the deltas of days touched since its last fold into one row per key.

    It remembers, per tally, the highest ID it has folded up to: days with rows above
    it are the ones to fold. A new folder (a restarted server) folds every day once.
    """

    folded_up_to: dict[str, int] = field(default_factory=dict)

    async def fold(self, db: AsyncSession) -> int:
        """Fold every tally; returns how many days (of any tally) were folded. Call inside
        a transaction: a day's sums and the removal of its deltas land together."""
        folded = 0
        for table in TALLIES:
            folded += await self._fold_table(db, table)
        return folded

    async def _fold_table(self, db: AsyncSession, table: Tally) -> int:
        name = table.__tablename__
        newest = await db.scalar(select(func.max(table.id)))
        if newest is None:
            return 0
        since = self.folded_up_to.get(name, 0)
        touched: Sequence[Any] = (
            await db.execute(
                select(table.workflow, table.day)
                .where(table.id > since, table.id <= newest)
                .distinct()
            )
        ).all()
        for workflow, day in touched:
            scope = (table.workflow == workflow) & (table.day == day) & (table.id <= newest)
            await _replace_with_sums(db, table, scope)
        # Past the sums just written too, so they are not taken for new deltas next time.
        self.folded_up_to[name] = int(await db.scalar(select(func.max(table.id))) or newest)
        return len(touched)


async def _replace_with_sums(db: AsyncSession, table: Tally, scope: ColumnElement[bool]) -> None:
    """Swap the rows of ``scope`` for one row per key holding their sums.

    PostgreSQL does it in one statement, so a delta committed by another writer meanwhile
    is either in both the sums and the removal or in neither. SQLite has one writer at a
    time, so two statements in this transaction see the same rows.
    """
    keys, sums = _key_columns(table), _sum_columns(table)
    names = [c.name for c in keys + sums]
    if db.get_bind().dialect.name == "postgresql":
        gone = delete(table).where(scope).returning(*keys, *sums).cte("gone")
        gone_keys = [gone.c[c.name] for c in keys]
        totals = (
            select(*gone_keys, *(func.sum(gone.c[c.name]) for c in sums))
            .group_by(*gone_keys)
            .having(func.sum(gone.c.n) != 0)
        )
        await db.execute(insert(table).from_select(names, totals))
        return
    totals = (
        select(*keys, *(func.sum(c) for c in sums))
        .where(scope)
        .group_by(*keys)
        .having(func.sum(table.n) != 0)
    )
    await db.execute(insert(table).from_select(names, totals))
    await db.execute(delete(table).where(scope))
