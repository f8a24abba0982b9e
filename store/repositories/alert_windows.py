"""The event queries behind the alert rules, each bounded to a window of time.

Every query filters on ``workflow`` and ``recorded_at >= since`` first, which is the
``ix_events_workflow_recorded_at`` index: what a query reads follows the window (the last
fifteen minutes of one workflow), never the size of the history. Aggregates are computed
in SQL; rows come back only where a rule needs them (error texts, the last few calls), and
then with a limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Event

#: Step types that are calls out of the automation (to a model or a tool).
CALL_TYPES = ("model", "tool")
#: Statuses an automation reports for a step that failed.
FAILED_STATUSES = ("error", "failed")


def _in_window(workflow: str, since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(Event.workflow == workflow, Event.recorded_at >= since, Event.recorded_at <= until)


def failed_step() -> ColumnElement[bool]:
    """A step that went wrong: an error step, a failed status, or any error text."""
    return or_(Event.type == "error", Event.status.in_(FAILED_STATUSES), Event.error.is_not(None))


def _failed_call() -> ColumnElement[bool]:
    return or_(Event.status.in_(FAILED_STATUSES), Event.error.is_not(None))


def _tokens() -> ColumnElement[Any]:
    return func.coalesce(Event.tokens_in, 0) + func.coalesce(Event.tokens_out, 0)


async def list_failed_steps(
    db: AsyncSession, *, workflow: str, since: datetime, until: datetime, limit: int
) -> Sequence[Row[str | None, str, str, datetime]]:
    """The newest failed steps in the window: ``error``, ``name``, ``run_id``, ``recorded_at``."""
    result = await db.execute(
        select(Event.error, Event.name, Event.run_id, Event.recorded_at)
        .where(_in_window(workflow, since, until), failed_step())
        .order_by(Event.recorded_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return result.all()


async def list_latest_calls(
    db: AsyncSession, *, workflow: str, since: datetime, until: datetime, limit: int
) -> Sequence[Row[float | None, str, str, datetime]]:
    """The newest timed calls: ``duration_ms``, ``name``, ``run_id``, ``recorded_at``.

    Read newest first through the index, so the database stops after ``limit`` rows.
    """
    result = await db.execute(
        select(Event.duration_ms, Event.name, Event.run_id, Event.recorded_at)
        .where(
            _in_window(workflow, since, until),
            Event.type.in_(CALL_TYPES),
            Event.duration_ms.is_not(None),
        )
        .order_by(Event.recorded_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return result.all()


async def count_calls(
    db: AsyncSession, *, workflow: str, since: datetime, until: datetime
) -> tuple[int, int]:
    """How many calls the window holds, and how many of them failed."""
    result = await db.execute(
        select(func.count(), func.coalesce(func.sum(case((_failed_call(), 1), else_=0)), 0)).where(
            _in_window(workflow, since, until), Event.type.in_(CALL_TYPES)
        )
    )
    total, failed = result.one()
    return int(total), int(failed)


async def list_failed_calls(
    db: AsyncSession, *, workflow: str, since: datetime, until: datetime, limit: int
) -> Sequence[Row[str, datetime, str, str | None]]:
    """The newest failed calls: ``run_id``, ``recorded_at``, ``name``, ``error``."""
    result = await db.execute(
        select(Event.run_id, Event.recorded_at, Event.name, Event.error)
        .where(_in_window(workflow, since, until), Event.type.in_(CALL_TYPES), _failed_call())
        .order_by(Event.recorded_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return result.all()


async def token_use_by_prompt_version(
    db: AsyncSession,
    *,
    workflow: str,
    baseline_from: datetime,
    window_from: datetime,
    until: datetime,
) -> Sequence[Row[str | None, int, int, int, int]]:
    """Per prompt version: calls and tokens in the window, and in the baseline before it.

    Columns: ``prompt_version``, ``calls``, ``tokens``, ``base_calls``, ``base_tokens``.
    One pass over the model calls of ``[baseline_from, until]``.
    """
    recent = Event.recorded_at >= window_from
    result = await db.execute(
        select(
            Event.prompt_version,
            func.sum(case((recent, 1), else_=0)).label("calls"),
            func.sum(case((recent, _tokens()), else_=0)).label("tokens"),
            func.sum(case((recent, 0), else_=1)).label("base_calls"),
            func.sum(case((recent, 0), else_=_tokens())).label("base_tokens"),
        )
        .where(
            _in_window(workflow, baseline_from, until),
            Event.type == "model",
            or_(Event.tokens_in.is_not(None), Event.tokens_out.is_not(None)),
        )
        .group_by(Event.prompt_version)
    )
    rows: Sequence[Row[str | None, int, int, int, int]] = result.all()
    return rows


async def list_heavy_calls(
    db: AsyncSession,
    *,
    workflow: str,
    prompt_version: str | None,
    since: datetime,
    until: datetime,
    above: float,
    limit: int,
) -> Sequence[Row[str, datetime, Any]]:
    """The newest model calls of a prompt version using more than ``above`` tokens."""
    version = (
        Event.prompt_version.is_(None)
        if prompt_version is None
        else Event.prompt_version == prompt_version
    )
    result = await db.execute(
        select(Event.run_id, Event.recorded_at, _tokens().label("tokens"))
        .where(
            _in_window(workflow, since, until),
            Event.type == "model",
            version,
            _tokens() > above,
        )
        .order_by(Event.recorded_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return result.all()
