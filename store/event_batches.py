"""The ingestion hot path: one batch of event rows into the store, at the database driver.

A batch is the write Handrail does most, so it skips two layers the rest of the store uses.
Through SQLAlchemy's async adapters every statement costs three or four hand-offs between
the event loop and the driver (cursor, execute, fetch, close), each a thread switch on
SQLite, plus the ORM's bookkeeping; on the driver connection a statement costs one. The SQL
is the same as the repositories would send: hold the run (PostgreSQL; SQLite's write lock
already serialises batches) when client IDs need checking, dedupe by client event ID,
reserve positions with one atomic ``UPDATE … RETURNING`` that also checks the run, insert
with ``executemany``. ``bench/ingest.py`` measures the difference.

Everything else (reading runs, error paths) stays in ``store.repositories``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from store.driver import driver_connection
from store.write_lock import write_turn

EVENT_COLUMNS: Final = (
    "run_id", "workflow", "seq", "client_id", "type", "name", "status", "started_at",
    "ended_at", "duration_ms", "input", "output", "error", "model", "settings",
    "prompt_version", "tokens_in", "tokens_out", "redactions", "recorded_at",
)  # fmt: skip
RUN_COLUMNS: Final = (
    "id", "workflow", "status", "input_source", "prompt_version", "model", "metadata",
    "started_at", "event_count", "redactions",
)  # fmt: skip
_JSON_COLUMNS: Final = frozenset({"input", "output", "settings", "redactions", "metadata"})
_TIME_COLUMNS: Final = frozenset({"started_at", "ended_at", "recorded_at"})


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """What a batch left in the store: the rows written (with their ``seq``) and skipped."""

    written: list[dict[str, Any]]
    duplicates: int


class _Statements(Protocol):
    """The statements of a batch, in one open transaction of one driver."""

    async def lock(self, run_id: str) -> None:
        """Hold the run until commit, so concurrent batches to it take turns."""

    async def seen(self, run_id: str, client_ids: list[str]) -> set[str]: ...

    async def exists(self, run_id: str, workflow: str) -> bool: ...

    async def reserve(
        self, count: int, run_id: str, workflow: str, statuses: list[str]
    ) -> int | None: ...

    async def insert(self, rows: list[dict[str, Any]]) -> None: ...

    async def open_run(self, row: dict[str, Any]) -> tuple[str, str, bool]:
        """Insert the run unless its ID exists; (its workflow, its status, created)."""


Transaction = Callable[[Any], AbstractAsyncContextManager[_Statements]]


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
    transaction = _TRANSACTIONS[engine.dialect.name]
    async with (
        write_turn(engine),
        driver_connection(engine) as driver,
        transaction(driver) as statements,
    ):
        return await _store(
            statements, run_id=run_id, workflow=workflow, statuses=sorted(statuses), rows=rows
        )


async def store_event_batch_in(
    db: AsyncSession,
    *,
    run_id: str,
    workflow: str,
    statuses: Collection[str],
    rows: list[dict[str, Any]],
) -> StoredBatch | None:
    """``store_event_batch`` inside the session's open transaction, beside its other writes.

    For a write that must commit or fail with other changes (OTLP: a run created, its
    spans stored, the run finished, for several traces at once). The statements go on the
    session's own driver connection, so they commit or roll back with the session.
    """
    statements = await _session_statements(db)
    return await _store(
        statements, run_id=run_id, workflow=workflow, statuses=sorted(statuses), rows=rows
    )


async def open_run_in(db: AsyncSession, row: dict[str, Any]) -> tuple[str, str, bool]:
    """Create the run ``row`` describes unless its ID exists, in the session's transaction.

    Returns the workflow and status of the run under that ID, and whether this created it:
    the caller refuses an ID another workflow owns. The same statement as
    ``store.repositories.runs.create_run_if_absent``, at the driver, for the hot path.
    """
    return await (await _session_statements(db)).open_run(row)


async def _session_statements(db: AsyncSession) -> _Statements:
    connection = await db.connection()
    dialect = connection.dialect.name
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if dialect == "postgresql" and not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter begins lazily, at the first statement it sends.
        await connection.exec_driver_sql("SELECT 1")
    return _STATEMENTS[dialect](driver)


async def _store(
    statements: _Statements,
    *,
    run_id: str,
    workflow: str,
    statuses: list[str],
    rows: list[dict[str, Any]],
) -> StoredBatch | None:
    client_ids = [row["client_id"] for row in rows if row["client_id"] is not None]
    if client_ids:
        # Without the lock two retries of one batch could both find its IDs unseen, both
        # reserve positions, and only one insert would land: a gap and a double count.
        await statements.lock(run_id)
    seen = await statements.seen(run_id, client_ids) if client_ids else set()
    fresh = _without_seen(rows, seen)
    if not fresh:  # a retry of steps already stored: fine, even on a finished run
        return StoredBatch([], len(rows)) if await statements.exists(run_id, workflow) else None
    last = await statements.reserve(len(fresh), run_id, workflow, statuses)
    if last is None:
        return None
    first = last - len(fresh) + 1
    for offset, row in enumerate(fresh):
        row["run_id"] = run_id
        row["seq"] = first + offset
    await statements.insert(fresh)
    return StoredBatch(fresh, len(rows) - len(fresh))


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


def _parameters(
    rows: list[dict[str, Any]], time: Converter | None, columns: tuple[str, ...] = EVENT_COLUMNS
) -> list[tuple[Any, ...]]:
    """Rows as driver parameters: JSON columns as text, times as ``time`` makes them."""
    plan: list[tuple[str, Converter | None]] = []
    for column in columns:
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


def _insert_sql(
    placeholder: Callable[[int], str],
    table: str = "events",
    columns: tuple[str, ...] = EVENT_COLUMNS,
    returning: str = "",
) -> str:
    values = ", ".join(placeholder(i) for i in range(1, len(columns) + 1))
    # Fixed table and column names; every value is a bound parameter.
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT DO NOTHING{returning}"
    )


class _SqliteStatements:
    """aiosqlite: each awaited call is one trip to the connection's thread.

    A list travels as one JSON array parameter, so each statement's text is fixed.
    """

    _seen = (
        "SELECT client_id FROM events "
        "WHERE run_id = ? AND client_id IN (SELECT value FROM json_each(?))"
    )
    _exists = "SELECT 1 FROM runs WHERE id = ? AND workflow = ?"
    _reserve = (
        "UPDATE runs SET event_count = event_count + ? WHERE id = ? AND workflow = ? "
        "AND status IN (SELECT value FROM json_each(?)) RETURNING event_count"
    )
    _insert = _insert_sql(lambda _: "?")
    _open_run = _insert_sql(lambda _: "?", "runs", RUN_COLUMNS, " RETURNING id")
    _run_owner = "SELECT workflow, status FROM runs WHERE id = ?"

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def lock(self, run_id: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the database's one write lock."""

    async def open_run(self, row: dict[str, Any]) -> tuple[str, str, bool]:
        [values] = _parameters([row], _SqliteTime(), RUN_COLUMNS)
        if await self.driver.execute_fetchall(self._open_run, values):
            return row["workflow"], row["status"], True
        [(workflow, status)] = await self.driver.execute_fetchall(self._run_owner, (row["id"],))
        return str(workflow), str(status), False

    async def seen(self, run_id: str, client_ids: list[str]) -> set[str]:
        found = await self.driver.execute_fetchall(self._seen, (run_id, _json_text(client_ids)))
        return {client_id for (client_id,) in found}

    async def exists(self, run_id: str, workflow: str) -> bool:
        return bool(await self.driver.execute_fetchall(self._exists, (run_id, workflow)))

    async def reserve(
        self, count: int, run_id: str, workflow: str, statuses: list[str]
    ) -> int | None:
        found = await self.driver.execute_fetchall(
            self._reserve, (count, run_id, workflow, _json_text(statuses))
        )
        return int(found[0][0]) if found else None

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        await self.driver.executemany(self._insert, _parameters(rows, _SqliteTime()))


@asynccontextmanager
async def _sqlite_transaction(driver: Any) -> AsyncIterator[_Statements]:
    """``BEGIN IMMEDIATE``: the write lock is taken first, so no statement fails halfway."""
    await driver.execute_fetchall("BEGIN IMMEDIATE")
    try:
        yield _SqliteStatements(driver)
    except BaseException:
        await driver.rollback()
        raise
    await driver.commit()


class _PostgresStatements:
    """asyncpg: each awaited call is one round trip to the server."""

    _seen = "SELECT client_id FROM events WHERE run_id = $1 AND client_id = ANY($2::text[])"
    _exists = "SELECT 1 FROM runs WHERE id = $1 AND workflow = $2"
    _reserve = (
        "UPDATE runs SET event_count = event_count + $1 WHERE id = $2 AND workflow = $3 "
        "AND status = ANY($4::text[]) RETURNING event_count"
    )
    _lock = "SELECT 1 FROM runs WHERE id = $1 FOR UPDATE"
    _insert = _insert_sql(lambda i: f"${i}")
    _open_run = _insert_sql(lambda i: f"${i}", "runs", RUN_COLUMNS, " RETURNING id")
    _run_owner = "SELECT workflow, status FROM runs WHERE id = $1"

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def open_run(self, row: dict[str, Any]) -> tuple[str, str, bool]:
        [values] = _parameters([row], None, RUN_COLUMNS)
        if await self.driver.fetchval(self._open_run, *values) is not None:
            return row["workflow"], row["status"], True
        workflow, status = await self.driver.fetchrow(self._run_owner, row["id"])
        return str(workflow), str(status), False

    async def lock(self, run_id: str) -> None:
        """The run's row lock, which the position ``UPDATE`` would take later anyway."""
        await self.driver.execute(self._lock, run_id)

    async def seen(self, run_id: str, client_ids: list[str]) -> set[str]:
        return {record[0] for record in await self.driver.fetch(self._seen, run_id, client_ids)}

    async def exists(self, run_id: str, workflow: str) -> bool:
        return bool(await self.driver.fetchval(self._exists, run_id, workflow))

    async def reserve(
        self, count: int, run_id: str, workflow: str, statuses: list[str]
    ) -> int | None:
        last = await self.driver.fetchval(self._reserve, count, run_id, workflow, statuses)
        return None if last is None else int(last)

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        await self.driver.executemany(self._insert, _parameters(rows, None))


@asynccontextmanager
async def _postgres_transaction(driver: Any) -> AsyncIterator[_Statements]:
    async with driver.transaction():
        yield _PostgresStatements(driver)


_STATEMENTS: Final[dict[str, Callable[[Any], _Statements]]] = {
    "sqlite": _SqliteStatements,
    "postgresql": _PostgresStatements,
}
_TRANSACTIONS: Final[dict[str, Transaction]] = {
    "sqlite": _sqlite_transaction,
    "postgresql": _postgres_transaction,
}
