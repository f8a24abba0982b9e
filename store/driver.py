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
