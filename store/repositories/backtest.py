"""Reads for a policy backtest: gate steps page by page, and the review times of a window.

Pages are keyset pages on ``(recorded_at, id)`` of one workflow, which the partial index
``ix_events_gate_questions`` serves in order; no page depends on how many came before, so
a backtest over millions of questions holds one page at a time. Percentiles are picked by
the database (``ORDER BY … OFFSET``), never by loading every review time.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, Text, and_, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Event, Handoff

#: Gate steps read per page: large enough that round trips do not dominate.
PAGE_SIZE = 2000

GateRow = Row[int, str, str, str | None, str, str, datetime]

#: The handoffs of a page, by a bound list: a literal list would be hashed into the
#: statement cache's key on every page.
_HANDOFF_INPUTS = select(
    Handoff.id,
    Handoff.action,
    Handoff.confidence,
    Handoff.draft,
    Handoff.summary,
    Handoff.stop_topic,
).where(Handoff.id.in_(bindparam("ids", expanding=True)))


def read_json(text: str | None) -> Any:
    """A JSON column read as text (see :func:`stream_gate_steps`), parsed with orjson."""
    return None if text is None else orjson.loads(text)


async def stream_gate_steps(
    db: AsyncSession,
    *,
    workflow: str,
    since: datetime,
    until: datetime,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[Sequence[GateRow]]:
    """Yield ``workflow``'s gate steps recorded in ``[since, until]``, a page at a time.

    ``input`` and ``output`` come as JSON text, for :func:`read_json`: orjson parses a
    million of them in a fraction of the time the column type's ``json.loads`` takes.
    """
    # Core-level execution: the ORM's row processing is most of the cost of plain columns.
    connection = await db.connection()
    last: tuple[datetime, int] | None = None
    while True:
        query = (
            select(
                Event.id,
                Event.run_id,
                Event.name,
                Event.status,
                cast(Event.input, Text).label("input"),
                cast(Event.output, Text).label("output"),
                Event.recorded_at,
            )
            .where(
                Event.workflow == workflow,
                Event.type == "gate",
                Event.recorded_at <= until,
            )
            .order_by(Event.recorded_at, Event.id)
            .limit(page_size)
        )
        if last is None:
            query = query.where(Event.recorded_at >= since)
        else:
            at, key = last
            query = query.where(
                Event.recorded_at >= at,
                or_(Event.recorded_at > at, and_(Event.recorded_at == at, Event.id > key)),
            )
        page = (await connection.execute(query)).all()
        if not page:
            return
        yield page
        last = (page[-1].recorded_at, page[-1].id)
        if len(page) < page_size:
            return


async def get_handoff_inputs(
    db: AsyncSession, handoff_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """What older gate steps left on the handoffs they opened: action, confidence, texts."""
    if not handoff_ids:
        return {}
    connection = await db.connection()
    rows = await connection.execute(_HANDOFF_INPUTS, {"ids": list(handoff_ids)})
    return {row.id: row._asdict() for row in rows}


async def get_review_waits(
    db: AsyncSession, *, workflow: str, since: datetime, until: datetime
) -> tuple[int, int | None, int | None]:
    """How many decisions ``workflow`` had in the window, and their p50 and p90 in ms."""
    scope = (
        select(Decision.latency_ms)
        .join(Handoff, Handoff.id == Decision.handoff_id)
        .where(
            Handoff.workflow == workflow,
            Decision.decided_at >= since,
            Decision.decided_at <= until,
        )
    )
    count = (await db.execute(select(func.count()).select_from(scope.subquery()))).scalar_one()
    if not count:
        return 0, None, None

    async def _nth(share: float) -> int | None:
        # The nearest-rank percentile: the smallest value at or above ``share`` of them.
        offset = max(math.ceil(share * count) - 1, 0)
        query = scope.order_by(Decision.latency_ms).offset(offset).limit(1)
        return (await db.execute(query)).scalar_one_or_none()

    return count, await _nth(0.5), await _nth(0.9)
