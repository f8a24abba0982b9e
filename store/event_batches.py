"""The ingestion hot path: one batch of event rows into the store, at the database driver.

A batch is the write Handrail does most, so it skips two layers the rest of the store uses.
Through SQLAlchemy's async adapters every statement costs three or four hand-offs between
the event loop and the driver (cursor, execute, fetch, close), each a thread switch on
SQLite, plus the ORM's bookkeeping; on the driver connection a statement costs one. The SQL
is the same as the repositories would send: dedupe by client event ID, reserve positions
with one atomic ``UPDATE … RETURNING`` that also checks the run, insert with
``executemany``. ``bench/ingest.py`` measures the difference.

Everything else (reading runs, error paths) stays in ``store.repositories``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

EVENT_COLUMNS: Final = (
    "run_id", "workflow", "seq", "client_id", "type", "name", "status", "started_at",
    "ended_at", "duration_ms", "input", "output", "error", "model", "settings",
    "prompt_version", "tokens_in", "tokens_out", "redactions", "recorded_at",
)  # fmt: skip
_JSON_COLUMNS: Final = frozenset({"input", "output", "settings", "redactions"})
_TIME_COLUMNS: Final = frozenset({"started_at", "ended_at", "recorded_at"})


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """What a batch left in the store: the rows written (with their ``seq``) and skipped."""

    written: list[dict[str, Any]]
    duplicates: int


class _Dialect(Protocol):
    async def store(
        self,
        driver: Any,
        *,
        run_id: str,
        workflow: str,
        statuses: Sequence[str],
        rows: list[dict[str, Any]],
    ) -> StoredBatch | None: ...


async def store_event_batch(
    engine: AsyncEngine,
    *,
    run_id: str,
    workflow: str,
    statuses: Collection[str],
    rows: list[dict[str, Any]],
) -> StoredBatch | None:
    """Append ``rows`` after the run's last step in one transaction.

    Rows whose client ``client_id`` the run already holds, or that repeat one earlier in
    the batch, are skipped. Returns None, writing nothing, when ``run_id`` is not an open
    run of ``workflow`` (the caller reads the run to say which).
    """
    dialect = _DIALECTS[engine.dialect.name]
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        return await dialect.store(
            pooled.driver_connection,
            run_id=run_id,
            workflow=workflow,
            statuses=sorted(statuses),
            rows=rows,
        )


def _without_seen(rows: list[dict[str, Any]], seen: set[str]) -> list[dict[str, Any]]:
    fresh = []
    for row in rows:
        client_id = row["client_id"]
        if client_id is not None:
            if client_id in seen:
                continue
            seen.add(client_id)
        fresh.append(row)
    return fresh


def _client_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["client_id"] for row in rows if row["client_id"] is not None]


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class _SqliteTime:
    """The text ``UTCDateTime`` stores on SQLite, so reads through the ORM see the same value.

    A batch's rows share their ``recorded_at``, so the last conversion is remembered.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[datetime | None, str | None] = (None, None)

    def __call__(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        last_value, last_text = self._last
        if value is last_value:
            return last_text
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        self._last = (value, text)
        return text


Converter = Callable[[Any], Any]


def _parameters(rows: list[dict[str, Any]], time: Converter | None) -> list[tuple[Any, ...]]:
    """Rows as driver parameters: JSON columns as text, times as ``time`` makes them."""
    plan: list[tuple[str, Converter | None]] = []
    for column in EVENT_COLUMNS:
        if column in _JSON_COLUMNS:
            plan.append((column, _json_text))
        elif column in _TIME_COLUMNS:
            plan.append((column, time))
        else:
            plan.append((column, None))
    return [
        tuple(row[column] if convert is None else convert(row[column]) for column, convert in plan)
        for row in rows
    ]


def _insert_sql(placeholder: Callable[[int], str]) -> str:
    values = ", ".join(placeholder(i) for i in range(1, len(EVENT_COLUMNS) + 1))
    # Fixed column names; every value is a bound parameter.
    return (
        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({values}) "  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )


def _number(rows: list[dict[str, Any]], *, run_id: str, last: int) -> None:
    first = last - len(rows) + 1
    for offset, row in enumerate(rows):
        row["run_id"] = run_id
        row["seq"] = first + offset


class _Sqlite:
    """aiosqlite: each awaited call is one trip to the connection's thread."""

    insert = _insert_sql(lambda _: "?")
    # A list travels as one JSON array parameter, so each statement's text is fixed.
    seen = (
        "SELECT client_id FROM events "
        "WHERE run_id = ? AND client_id IN (SELECT value FROM json_each(?))"
    )
    exists = "SELECT 1 FROM runs WHERE id = ? AND workflow = ?"
    reserve = (
        "UPDATE runs SET event_count = event_count + ? WHERE id = ? AND workflow = ? "
        "AND status IN (SELECT value FROM json_each(?)) RETURNING event_count"
    )

    async def store(
        self,
        driver: Any,
        *,
        run_id: str,
        workflow: str,
        statuses: Sequence[str],
        rows: list[dict[str, Any]],
    ) -> StoredBatch | None:
        await driver.execute_fetchall("BEGIN IMMEDIATE")
        try:
            client_ids = _client_ids(rows)
            seen: set[str] = set()
            if client_ids:
                found = await driver.execute_fetchall(
                    self.seen, (run_id, orjson.dumps(client_ids).decode())
                )
                seen = {client_id for (client_id,) in found}
            fresh = _without_seen(rows, seen)
            if not fresh:
                found = await driver.execute_fetchall(self.exists, (run_id, workflow))
                await driver.rollback()
                return StoredBatch([], len(rows)) if found else None
            reserved = await driver.execute_fetchall(
                self.reserve, (len(fresh), run_id, workflow, orjson.dumps(statuses).decode())
            )
            if not reserved:
                await driver.rollback()
                return None
            _number(fresh, run_id=run_id, last=reserved[0][0])
            await driver.executemany(self.insert, _parameters(fresh, _SqliteTime()))
            await driver.commit()
        except BaseException:
            await driver.rollback()
            raise
        return StoredBatch(fresh, len(rows) - len(fresh))


class _Postgres:
    """asyncpg: each awaited call is one round trip to the server."""

    insert = _insert_sql(lambda i: f"${i}")
    seen = "SELECT client_id FROM events WHERE run_id = $1 AND client_id = ANY($2::text[])"
    exists = "SELECT 1 FROM runs WHERE id = $1 AND workflow = $2"
    reserve = (
        "UPDATE runs SET event_count = event_count + $1 WHERE id = $2 AND workflow = $3 "
        "AND status = ANY($4::text[]) RETURNING event_count"
    )

    async def store(
        self,
        driver: Any,
        *,
        run_id: str,
        workflow: str,
        statuses: Sequence[str],
        rows: list[dict[str, Any]],
    ) -> StoredBatch | None:
        async with driver.transaction():
            client_ids = _client_ids(rows)
            seen: set[str] = set()
            if client_ids:
                found = await driver.fetch(self.seen, run_id, client_ids)
                seen = {record[0] for record in found}
            fresh = _without_seen(rows, seen)
            if not fresh:
                exists = await driver.fetchval(self.exists, run_id, workflow)
                return StoredBatch([], len(rows)) if exists else None
            last = await driver.fetchval(self.reserve, len(fresh), run_id, workflow, statuses)
            if last is None:
                return None
            _number(fresh, run_id=run_id, last=last)
            await driver.executemany(self.insert, _parameters(fresh, None))
        return StoredBatch(fresh, len(rows) - len(fresh))


_DIALECTS: Final[dict[str, _Dialect]] = {"sqlite": _Sqlite(), "postgresql": _Postgres()}
