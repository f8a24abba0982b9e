"""Reads for ``/trace``: slices of a run's steps by position, and runs near a mistyped ID.

Every step query is bounded and ordered by ``(run_id, seq)``, which the unique index on
those columns serves directly, so the cost of a trace depends on what is shown, not on
how many events the store holds or how long the run is. Steps are read as plain rows of
the columns a trace shows, with input and output as JSON text cut in SQL (Handrail's own
small outputs whole) and only the head of an error: a trace shows a glance of each, and
decoding whole documents into objects only to cut them again was most of its cost.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, Select, Text, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Event, Run

#: Characters of a step's input or output read for display (its JSON text).
GLANCE_CHARS = 600
#: Characters of a step's error read for display; its full length is read too.
ERROR_CHARS = 4000
#: Steps Handrail writes itself: small JSON outputs, read whole (reviewer, reason…).
OWN_STEPS = ("gate", "handoff", "decision", "park")


def _steps() -> Select[Any]:
    return select(
        Event.seq,
        Event.type,
        Event.name,
        Event.status,
        Event.duration_ms,
        func.substr(cast(Event.input, Text), 1, GLANCE_CHARS).label("input"),
        case(
            (Event.type.in_(OWN_STEPS), cast(Event.output, Text)),
            else_=func.substr(cast(Event.output, Text), 1, GLANCE_CHARS),
        ).label("output"),
        func.substr(Event.error, 1, ERROR_CHARS).label("error"),
        func.length(Event.error).label("error_chars"),
        Event.model,
        Event.tokens_in,
        Event.tokens_out,
        Event.redactions,
    )


async def list_steps_from(
    db: AsyncSession, run_id: str, *, from_seq: int, limit: int
) -> Sequence[Row[Any]]:
    """Up to ``limit`` steps from position ``from_seq`` on, in order."""
    result = await db.execute(
        _steps()
        .where(Event.run_id == run_id, Event.seq >= from_seq)
        .order_by(Event.seq)
        .limit(limit)
    )
    found: Sequence[Row[Any]] = result.all()
    return found


async def list_last_steps(
    db: AsyncSession, run_id: str, *, after_seq: int, limit: int
) -> list[Row[Any]]:
    """The last ``limit`` steps after position ``after_seq``, in order."""
    result = await db.execute(
        _steps()
        .where(Event.run_id == run_id, Event.seq > after_seq)
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return list(reversed(result.all()))


async def list_steps_of_type_between(
    db: AsyncSession, run_id: str, *, type: str, after_seq: int, before_seq: int, limit: int
) -> Sequence[Row[Any]]:
    """Steps of one ``type`` strictly between two positions (the hidden middle of a trace)."""
    result = await db.execute(
        _steps()
        .where(
            Event.run_id == run_id,
            Event.seq > after_seq,
            Event.seq < before_seq,
            Event.type == type,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    found: Sequence[Row[Any]] = result.all()
    return found


async def list_latest_runs(
    db: AsyncSession, workflows: Collection[str], *, limit: int
) -> Sequence[Run]:
    """The newest runs of ``workflows`` (served by the ``(workflow, started_at)`` index)."""
    if not workflows:
        return []
    result = await db.execute(
        select(Run)
        .where(Run.workflow.in_(list(workflows)))
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
    )
    return result.scalars().all()


async def list_runs_beside(
    db: AsyncSession, run_id: str, workflows: Collection[str], *, limit: int
) -> list[Run]:
    """Runs whose IDs sort just before and just after ``run_id``: where a typo lands.

    Two short range scans of the primary key, whatever the size of the table.
    """
    if not workflows:
        return []
    names = list(workflows)
    below = await db.execute(
        select(Run)
        .where(Run.id < run_id, Run.workflow.in_(names))
        .order_by(Run.id.desc())
        .limit(limit)
    )
    above = await db.execute(
        select(Run).where(Run.id > run_id, Run.workflow.in_(names)).order_by(Run.id).limit(limit)
    )
    return [*below.scalars().all(), *above.scalars().all()]
