"""Reading runs, steps, handoffs and decisions page by page, for export and the list API.

Every page is a keyset query (``WHERE (time, id) > last seen ORDER BY time, id LIMIT n``)
in its own short read, so a million rows stream in flat memory, no transaction stays open
for the whole export, and page N costs what page 1 costs (no ``OFFSET``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import Sessions
from store.models import Decision, Event, Handoff, Run

PAGE = 2000


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs: by workflow, status and start time (``since`` inclusive, ``until`` not)."""

    workflow: str | None = None
    statuses: Collection[str] = ()
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.workflow is not None:
            conditions.append(Run.workflow == self.workflow)
        if self.statuses:
            conditions.append(Run.status.in_(list(self.statuses)))
        if self.since is not None:
            conditions.append(Run.started_at >= self.since)
        if self.until is not None:
            conditions.append(Run.started_at < self.until)
        return conditions


#: Each record kind: its model, the columns of its keyset order, and whether it needs the
#: run joined to apply a ``RunFilter``.
_KINDS: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "runs": (Run, (Run.started_at, Run.id)),
    "steps": (Event, (Event.id,)),
    "handoffs": (Handoff, (Handoff.created_at, Handoff.id)),
    "decisions": (Decision, (Decision.id,)),
}
KINDS = tuple(_KINDS)


async def stream_records(
    sessions: Sessions,
    kind: str,
    runs: RunFilter,
    *,
    columns: Sequence[str],
    page: int = PAGE,
) -> AsyncIterator[Any]:
    """``columns`` (the model's attribute names) of every ``kind`` row belonging to a run
    ``runs`` selects, oldest first, a page at a time.

    Rows are plain result rows holding those columns (and the keyset's), never ORM objects:
    building an object per row is what an export of a million rows would spend most of its
    time on.
    """
    model, order = _KINDS[kind]
    wanted = [*columns, *(column.key for column in order if column.key not in columns)]
    query: Select[Any] = select(*(getattr(model, name) for name in wanted))
    query = query.order_by(*order).limit(page)
    if model is not Run:
        query = query.join(Run, Run.id == model.run_id)
    query = query.where(*runs.conditions())
    after: tuple[Any, ...] | None = None
    while True:
        paged = query if after is None else query.where(_after(order, after))
        async with sessions() as db:
            rows = list(await db.execute(paged))
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after = tuple(getattr(rows[-1], column.key) for column in order)


def _after(order: Sequence[Any], after: tuple[Any, ...]) -> ColumnElement[bool]:
    if len(order) == 1:
        return order[0] > after[0]  # type: ignore[no-any-return]
    return tuple_(*order) > after


async def list_runs(
    db: AsyncSession, runs: RunFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[Run]:
    """One page of runs for the API, ordered by (started_at, id)."""
    query = select(Run).where(*runs.conditions()).order_by(Run.started_at, Run.id).limit(limit)
    if after is not None:
        query = query.where(tuple_(Run.started_at, Run.id) > after)
    return list((await db.execute(query)).scalars())


async def list_handoffs(
    db: AsyncSession,
    *,
    workflow: str,
    statuses: Collection[str],
    kinds: Collection[str],
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Handoff]:
    """One page of a workflow's handoffs for the API, ordered by (created_at, id)."""
    query = (
        select(Handoff)
        .where(Handoff.workflow == workflow)
        .order_by(Handoff.created_at, Handoff.id)
        .limit(limit)
    )
    if statuses:
        query = query.where(Handoff.status.in_(list(statuses)))
    if kinds:
        query = query.where(Handoff.kind.in_(list(kinds)))
    if since is not None:
        query = query.where(Handoff.created_at >= since)
    if until is not None:
        query = query.where(Handoff.created_at < until)
    if after is not None:
        query = query.where(tuple_(Handoff.created_at, Handoff.id) > after)
    return list((await db.execute(query)).scalars())
