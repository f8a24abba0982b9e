"""Engines and sessions: one place that knows how SQLite and PostgreSQL differ."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store import write_lock

Sessions = async_sessionmaker[AsyncSession]

#: Execution option marking a connection that will only read.
READ_ONLY = "handrail_read_only"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_loads(stored: str | bytes | int | float) -> Any:
    """Parse a JSON column; on SQLite a document that is a bare number comes back as one.

    SQLite gives a column declared ``JSON`` numeric affinity, so the text ``5`` written
    for ``"input": 5`` is kept as the integer 5, and ``0.5`` as a real.
    """
    if isinstance(stored, int | float):
        return stored
    return orjson.loads(stored)


def create_engine(url: str, *, schema: str | None = None, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url``, tuned for the database behind it.

    ``schema`` (PostgreSQL only) puts Handrail's tables in their own schema, which is how
    several installations, or parallel test runs, share one database.

    SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` transactions:
    a writer takes the lock when it starts instead of failing halfway when another
    connection writes first; the writers of this process queue for it in turn
    (``store.write_lock``) rather than sleeping in SQLite's busy handler.
    """
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if schema is not None and not is_sqlite:
        kwargs.setdefault("connect_args", {"server_settings": {"search_path": schema}})
    if not is_sqlite:
        kwargs = {"pool_size": 10, "max_overflow": 10, **kwargs}
    engine = create_async_engine(
        url, json_serializer=_json_dumps, json_deserializer=_json_loads, **kwargs
    )
    if is_sqlite:
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    write_lock.install(engine)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        if not read_only:
            write_lock.take_before_begin(engine.sync_engine, connection)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessions(engine: AsyncEngine) -> Sessions:
    """The unit-of-work factory handed to handlers and jobs: ``async with sessions() as db``."""
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_sessions(engine: AsyncEngine) -> Sessions:
    """Sessions for reads only: on SQLite they do not take the write lock, so reads never
    queue behind writers (WAL gives them a consistent snapshot)."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
