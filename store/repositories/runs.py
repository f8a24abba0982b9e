"""Run and event queries, including the two writes that must be atomic in SQL."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from store.models import Base, Decision, Event, Handoff, Run


def insert_ignoring_conflicts(db: AsyncSession, model: type[Base]) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the dialect of ``db``."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()


async def get_run(db: AsyncSession, run_id: str, *, for_update: bool = False) -> Run | None:
    return await db.get(Run, run_id, with_for_update=for_update or None)


async def get_event_by_client_id(db: AsyncSession, run_id: str, client_id: str) -> Event | None:
    result = await db.execute(
        select(Event).where(Event.run_id == run_id, Event.client_id == client_id)
    )
    return result.scalar_one_or_none()


async def create_run_if_absent(db: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the run unless its ID exists; True when this call created it."""
    result = await db.execute(insert_ignoring_conflicts(db, Run).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def reserve_event_seqs(
    db: AsyncSession,
    run_id: str,
    count: int,
    *,
    workflow: str | None = None,
    statuses: Collection[str] | None = None,
) -> int | None:
    """Hand out ``count`` consecutive positions; returns the last. Atomic under concurrency.

    With ``workflow`` and ``statuses`` the same statement also checks that the run is that
    workflow's and still open, and returns None when it is not: one round trip on the
    ingestion path instead of a read and a write. It runs as Core on the session's
    connection, skipping the ORM, because it is on the hot path.
    """
    statement = update(Run).where(Run.id == run_id)
    if workflow is not None:
        statement = statement.where(Run.workflow == workflow)
    if statuses is not None:
        statement = statement.where(Run.status.in_(statuses))
    connection = await db.connection()
    result = await connection.execute(
        statement.values(event_count=Run.event_count + count).returning(Run.event_count)
    )
    last = result.scalar_one_or_none()
    return None if last is None else int(last)


async def list_existing_client_ids(
    db: AsyncSession, run_id: str, client_ids: Sequence[str]
) -> set[str]:
    connection = await db.connection()
    result = await connection.execute(
        select(Event.client_id).where(Event.run_id == run_id, Event.client_id.in_(client_ids))
    )
    return {client_id for client_id in result.scalars() if client_id is not None}


EVENT_COLUMNS = (
    "run_id", "workflow", "seq", "client_id", "type", "name", "status", "started_at",
    "ended_at", "duration_ms", "input", "output", "error", "model", "settings",
    "prompt_version", "tokens_in", "tokens_out", "redactions", "recorded_at",
)  # fmt: skip
_JSON_COLUMNS = frozenset({"input", "output", "settings", "redactions"})
_TIME_COLUMNS = frozenset({"started_at", "ended_at", "recorded_at"})


def _insert_events_sql(placeholder: Callable[[int], str]) -> str:
    values = ", ".join(placeholder(i) for i in range(1, len(EVENT_COLUMNS) + 1))
    columns = ", ".join(EVENT_COLUMNS)
    # Fixed column names; every value is a bound parameter.
    return f"INSERT INTO events ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"  # noqa: S608


_INSERT_EVENTS_SQL = {
    "sqlite": _insert_events_sql(lambda _: "?"),
    "postgresql": _insert_events_sql(lambda i: f"${i}"),
}


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _sqlite_time(value: datetime | None) -> str | None:
    """The text ``UTCDateTime`` stores on SQLite, so reads through the ORM see the same value."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _converters(dialect: str) -> list[Callable[[Any], Any] | None]:
    """Per column, the conversion a driver needs (None: pass the value as it is)."""
    converters: list[Callable[[Any], Any] | None] = []
    for column in EVENT_COLUMNS:
        if column in _JSON_COLUMNS:
            converters.append(_json_text)
        elif column in _TIME_COLUMNS and dialect == "sqlite":
            converters.append(_sqlite_time)
        else:
            converters.append(None)
    return converters


_CONVERTERS = {dialect: _converters(dialect) for dialect in _INSERT_EVENTS_SQL}


async def insert_events(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert a batch in one driver-level executemany; an event ID stored meanwhile is skipped.

    This is the ingestion hot path. Going below SQLAlchemy's per-row type processing
    (JSON columns serialised once with orjson, SQLite datetimes pre-formatted the way
    ``UTCDateTime`` stores them) roughly halves the cost of a batch; reads still go
    through the ORM types and see the same values.
    """
    dialect = db.get_bind().dialect.name
    columns = list(zip(EVENT_COLUMNS, _CONVERTERS[dialect], strict=True))
    params = [
        tuple(
            row[column] if convert is None else convert(row[column]) for column, convert in columns
        )
        for row in rows
    ]
    connection = await db.connection()
    await connection.exec_driver_sql(_INSERT_EVENTS_SQL[dialect], params)


async def list_events(db: AsyncSession, run_id: str) -> Sequence[Event]:
    result = await db.execute(select(Event).where(Event.run_id == run_id).order_by(Event.seq))
    return result.scalars().all()


async def list_handoffs_for_run(db: AsyncSession, run_id: str) -> Sequence[Handoff]:
    result = await db.execute(
        select(Handoff).where(Handoff.run_id == run_id).order_by(Handoff.created_at, Handoff.id)
    )
    return result.scalars().all()


async def list_decisions_for_run(db: AsyncSession, run_id: str) -> Sequence[Decision]:
    result = await db.execute(
        select(Decision).where(Decision.run_id == run_id).order_by(Decision.decided_at)
    )
    return result.scalars().all()


async def list_runs_like(db: AsyncSession, fragment: str, limit: int = 5) -> Sequence[Run]:
    """Runs whose ID contains ``fragment`` (for "did you mean" answers), newest first."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await db.execute(
        select(Run)
        .where(Run.id.like(f"%{escaped}%", escape="\\"))
        .order_by(Run.started_at.desc())
        .limit(limit)
    )
    return result.scalars().all()
