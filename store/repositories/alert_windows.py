"""The event queries behind the alert rules, each bounded to a window of time.

Every query filters on ``workflow IN (…)`` and ``recorded_at >= since`` first, which is
the ``ix_events_workflow_recorded_at`` index: what a query reads follows the window (the
last fifteen minutes of the workflows asked about), never the size of the history. One
query serves every workflow that shares a rule's settings, so a tick costs a few queries
whatever the number of workflows. Aggregates are computed in SQL; rows come back only where
a rule needs them (error texts, the last few calls), and then with a limit.

The statements are built once, with bound parameters, and run on the session's Core
connection: they run every 30 seconds, and building a statement costs more Python time
than the database spends answering it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Float,
    Row,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.models import Event
from store.repositories.runs import RUN_FAILED_STEP

#: Step types that are calls out of the automation (to a model or a tool).
CALL_TYPES = ("model", "tool")
#: Statuses an automation reports for a step that failed.
FAILED_STATUSES = ("error", "failed")

_TIME = Event.recorded_at.type
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def _window(workflows: str = "workflows", since: str = "since") -> ColumnElement[bool]:
    """``workflow IN :workflows AND :since <= recorded_at <= :until`` (index order)."""
    return and_(
        Event.workflow.in_(bindparam(workflows, expanding=True)),
        Event.recorded_at >= bindparam(since, type_=_TIME),
        Event.recorded_at <= bindparam("until", type_=_TIME),
    )


def failed_step(events: Any = Event) -> ColumnElement[bool]:
    """A step that went wrong: an error step, a failed status, or any error text."""
    return or_(
        events.type == "error", events.status.in_(FAILED_STATUSES), events.error.is_not(None)
    )


_EARLIER = aliased(Event)


def explained_run_failure() -> ColumnElement[bool]:
    """A run's own failure step that follows a failed step of the same run.

    That failure is the step's incident, told a second time in other words (Alertmanager
    would group the two by the run): the repeated-error rule counts the step alone.
    """
    return and_(
        Event.type == "error",
        Event.name == RUN_FAILED_STEP,
        Event.client_id.is_(None),
        exists().where(
            _EARLIER.run_id == Event.run_id, _EARLIER.seq < Event.seq, failed_step(_EARLIER)
        ),
    )


def _failed_call() -> ColumnElement[bool]:
    return or_(Event.status.in_(FAILED_STATUSES), Event.error.is_not(None))


def _tokens() -> ColumnElement[Any]:
    return func.coalesce(Event.tokens_in, 0) + func.coalesce(Event.tokens_out, 0)


def _newest_first(stmt: Any) -> Any:
    return stmt.order_by(Event.recorded_at.desc(), Event.id.desc()).limit(bindparam("limit"))


_FAILED_STEPS = _newest_first(
    select(Event.workflow, Event.error, Event.name, Event.run_id, Event.recorded_at).where(
        _window(), failed_step(), ~explained_run_failure()
    )
)

_RANKED_CALLS = (
    select(
        Event.workflow,
        Event.duration_ms,
        Event.name,
        Event.run_id,
        Event.recorded_at,
        func.row_number()
        .over(partition_by=Event.workflow, order_by=(Event.recorded_at.desc(), Event.id.desc()))
        .label("rank"),
    )
    .where(_window(), Event.type.in_(CALL_TYPES), Event.duration_ms.is_not(None))
    .subquery()
)
_LATEST_CALLS = (
    select(
        _RANKED_CALLS.c.workflow,
        _RANKED_CALLS.c.duration_ms,
        _RANKED_CALLS.c.name,
        _RANKED_CALLS.c.run_id,
        _RANKED_CALLS.c.recorded_at,
    )
    .where(_RANKED_CALLS.c.rank <= bindparam("limit"))
    .order_by(_RANKED_CALLS.c.workflow, _RANKED_CALLS.c.rank)
)

_COUNT_CALLS = (
    select(
        Event.workflow,
        func.count(),
        func.coalesce(func.sum(case((_failed_call(), 1), else_=0)), 0),
    )
    .where(_window(), Event.type.in_(CALL_TYPES))
    .group_by(Event.workflow)
)

_FAILED_CALLS = _newest_first(
    select(Event.run_id, Event.recorded_at, Event.name, Event.error).where(
        _window(), Event.type.in_(CALL_TYPES), _failed_call()
    )
)

_RECENT = (Event.recorded_at >= bindparam("window_from", type_=_TIME)).label("recent")
_TOKEN_USE = (
    select(
        Event.workflow,
        Event.prompt_version,
        _RECENT,
        func.count(),
        func.coalesce(func.sum(Event.tokens_in), 0) + func.coalesce(func.sum(Event.tokens_out), 0),
    )
    .where(
        _window(since="baseline_from"),
        Event.type == "model",
        or_(Event.tokens_in.is_not(None), Event.tokens_out.is_not(None)),
    )
    .group_by(Event.workflow, Event.prompt_version, _RECENT)
)


@dataclass(frozen=True, slots=True)
class TokenUse:
    """Model calls and their tokens of one workflow and prompt version."""

    workflow: str
    prompt_version: str | None
    calls: int = 0
    tokens: int = 0
    base_calls: int = 0
    base_tokens: int = 0


_HEAVY_CALLS = _newest_first(
    select(Event.run_id, Event.recorded_at, _tokens().label("tokens")).where(
        _window(),
        Event.type == "model",
        or_(
            and_(bindparam("version", type_=String).is_(None), Event.prompt_version.is_(None)),
            Event.prompt_version == bindparam("version", type_=String),
        ),
        _tokens() > bindparam("above", type_=Float),
    )
)


async def _rows(db: AsyncSession, stmt: Any, **params: Any) -> Sequence[AnyRow]:
    connection = await db.connection()
    return (await connection.execute(stmt, params)).all()


async def list_failed_steps(
    db: AsyncSession, *, workflows: Sequence[str], since: datetime, until: datetime, limit: int
) -> Sequence[AnyRow]:
    """The newest failed steps in the window, without run failures a failed step explains.

    Columns: ``workflow``, ``error``, ``name``, ``run_id``, ``recorded_at``; newest first.
    """
    return await _rows(
        db, _FAILED_STEPS, workflows=list(workflows), since=since, until=until, limit=limit
    )


async def list_latest_calls(
    db: AsyncSession, *, workflows: Sequence[str], since: datetime, until: datetime, limit: int
) -> Sequence[AnyRow]:
    """Each workflow's newest ``limit`` timed calls in the window, newest first.

    Columns: ``workflow``, ``duration_ms``, ``name``, ``run_id``, ``recorded_at``.
    """
    return await _rows(
        db, _LATEST_CALLS, workflows=list(workflows), since=since, until=until, limit=limit
    )


async def count_calls(
    db: AsyncSession, *, workflows: Sequence[str], since: datetime, until: datetime
) -> dict[str, tuple[int, int]]:
    """Per workflow: how many calls the window holds, and how many of them failed."""
    rows = await _rows(db, _COUNT_CALLS, workflows=list(workflows), since=since, until=until)
    return {str(workflow): (int(total), int(failed)) for workflow, total, failed in rows}


async def list_failed_calls(
    db: AsyncSession, *, workflow: str, since: datetime, until: datetime, limit: int
) -> Sequence[AnyRow]:
    """The newest failed calls of one workflow: ``run_id``, ``recorded_at``, ``name``, ``error``."""
    return await _rows(
        db, _FAILED_CALLS, workflows=[workflow], since=since, until=until, limit=limit
    )


async def token_use_by_prompt_version(
    db: AsyncSession,
    *,
    workflows: Sequence[str],
    baseline_from: datetime,
    window_from: datetime,
    until: datetime,
) -> list[TokenUse]:
    """Per workflow and prompt version: calls and tokens in the window, and in the baseline
    before it; one pass over the model calls of ``[baseline_from, until]``."""
    rows = await _rows(
        db,
        _TOKEN_USE,
        workflows=list(workflows),
        baseline_from=baseline_from,
        window_from=window_from,
        until=until,
    )
    use: dict[tuple[str, str | None], TokenUse] = {}
    for workflow, version, recent, calls, tokens in rows:
        seen = use.get((workflow, version)) or TokenUse(workflow, version)
        if recent:
            seen = replace(seen, calls=int(calls), tokens=int(tokens))
        else:
            seen = replace(seen, base_calls=int(calls), base_tokens=int(tokens))
        use[(workflow, version)] = seen
    return list(use.values())


async def list_heavy_calls(
    db: AsyncSession,
    *,
    workflow: str,
    prompt_version: str | None,
    since: datetime,
    until: datetime,
    above: float,
    limit: int,
) -> Sequence[AnyRow]:
    """The newest model calls of a prompt version using more than ``above`` tokens."""
    return await _rows(
        db,
        _HEAVY_CALLS,
        workflows=[workflow],
        since=since,
        until=until,
        version=prompt_version,
        above=above,
        limit=limit,
    )
