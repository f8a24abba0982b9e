"""Reads on the hot path, sent on the pooled driver connection with SQLAlchemy's conversions.

Every API request authenticates, so that one read is paid thousands of times a second.
Through an ORM session it costs a transaction, a cursor and a fetch, each a hop between
the event loop and the driver (aiosqlite runs SQLite in a thread); here it costs one. The
statement is still built with SQLAlchemy Core and compiled once per dialect, and values
come back through the column types' own result processors, so they equal what the ORM
would return.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.base import Executable


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection's driver object (aiosqlite or asyncpg), returned to the pool after.

    Errors raised here bypass SQLAlchemy, which would otherwise notice a dropped connection
    and replace it; so a connection whose work failed is invalidated instead of reused.
    """
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        try:
            yield pooled.driver_connection
        except BaseException:
            await connection.invalidate()
            raise


class DriverQuery:
    """A Core ``SELECT`` with named parameters, run at the driver; returns the first row."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    async def first(self, engine: AsyncEngine, **params: Any) -> tuple[Any, ...] | None:
        compiled = self._compiled.get(engine.dialect.name)
        if compiled is None:
            compiled = self._compiled[engine.dialect.name] = _Compiled(
                self.statement, engine.dialect
            )
        values = [params[name] for name in compiled.names]
        async with driver_connection(engine) as driver:
            if engine.dialect.name == "sqlite":
                rows = await driver.execute_fetchall(compiled.sql, values)
                found = rows[0] if rows else None
            else:
                found = await driver.fetchrow(compiled.sql, *values)
        if found is None:
            return None
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(found, compiled.converters, strict=True)
        )


class _Compiled:
    __slots__ = ("converters", "names", "sql")

    def __init__(self, statement: Select[*tuple[Any, ...]], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names: list[str] = list(compiled.positiontup or ())
        self.converters: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]


class DriverStatement:
    """Any Core statement with named parameters (a write, a ``RETURNING``), run at the driver.

    Compiled once per dialect; values go through the column types' own bind processors
    (JSON to text, UTC times as each store keeps them) and come back through their result
    processors, so what is written and read equals what the ORM would write and read.
    ``statements`` maps a dialect name to its statement, for SQL that differs between the
    stores (``ON CONFLICT`` clauses, ``FOR UPDATE``).
    """

    def __init__(self, statements: dict[str, Executable]) -> None:
        self.statements = statements
        self._compiled: dict[str, _CompiledWrite] = {}

    def compiled(self, dialect: Dialect) -> _CompiledWrite:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _CompiledWrite(
                self.statements[dialect.name], dialect
            )
        return found

    async def fetch(self, driver: Any, dialect: Dialect, **params: Any) -> list[tuple[Any, ...]]:
        """Run once with ``params``: every row it returns, converted (one trip)."""
        compiled = self.compiled(dialect)
        values = compiled.values(params)
        if dialect.name == "sqlite":
            rows = await driver.execute_fetchall(compiled.sql, values)
        else:
            rows = await driver.fetch(compiled.sql, *values)
        return [compiled.row(found) for found in rows]

    async def execute_many(self, driver: Any, dialect: Dialect, rows: list[dict[str, Any]]) -> None:
        """Run once per parameter set in ``rows``, in one ``executemany`` (one trip)."""
        if not rows:
            return
        compiled = self.compiled(dialect)
        await driver.executemany(compiled.sql, [compiled.values(row) for row in rows])


class _CompiledWrite:
    __slots__ = ("converters", "names", "processors", "sql")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        self.sql: str = compiled.string
        self.names: list[str] = list(compiled.positiontup or ())
        self.processors: list[Callable[[Any], Any] | None] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.names
        ]
        columns = getattr(statement, "exported_columns", ())
        self.converters: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def values(self, params: dict[str, Any]) -> list[Any]:
        return [
            params[name] if process is None else process(params[name])
            for name, process in zip(self.names, self.processors, strict=True)
        ]

    def row(self, found: Any) -> tuple[Any, ...]:
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(found, self.converters, strict=True)
        )
