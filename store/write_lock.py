"""SQLite writers of one process take turns on an asyncio lock before ``BEGIN IMMEDIATE``.

SQLite has one write lock per file. A connection that finds it taken waits in SQLite's
busy handler, which sleeps and retries (1, 2, 5 … up to 100 ms a try) instead of being
told when the lock is free; under a burst of writes (eight automations opening reviews
at once) those sleeps, not the work, set the latency. Inside one process the writers can
queue on an ``asyncio.Lock`` instead, which hands the turn over the moment the previous
transaction ends. Other processes (``serve --workers N``) still meet at SQLite's lock,
with its busy timeout, as before.

The lock is taken when a write transaction begins and released when its connection goes
back to the pool (or is invalidated), so a transaction never holds it longer than it holds
SQLite's. If it cannot be had within the busy timeout the transaction goes ahead and lets
SQLite decide, so nothing waits on it longer than it would have waited on SQLite.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_only, in_greenlet

WAIT_SECONDS = 10.0
"""As long as SQLite's own ``busy_timeout`` (see ``store.engine``)."""
_HELD = "handrail_write_lock"
_locks: weakref.WeakKeyDictionary[Engine, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _lock_of(engine: Engine) -> asyncio.Lock:
    """The engine's lock on the running loop (a test or CLI may run several loops in turn)."""
    loop = asyncio.get_running_loop()
    found = _locks.get(engine)
    if found is None or found[0] is not loop:
        found = _locks[engine] = (loop, asyncio.Lock())
    return found[1]


async def _acquire(lock: asyncio.Lock) -> bool:
    try:
        await asyncio.wait_for(lock.acquire(), WAIT_SECONDS)
    except TimeoutError:
        return False
    return True


def take_before_begin(engine: Engine, connection: Any) -> None:
    """Called from the ``begin`` event of a write transaction, inside SQLAlchemy's greenlet."""
    record_info = connection.connection.record_info
    if _HELD in record_info or not in_greenlet():
        return  # already this connection's turn, or a plain synchronous use
    lock = _lock_of(engine)
    if await_only(_acquire(lock)):
        record_info[_HELD] = lock


def _release(record: Any) -> None:
    lock = record.record_info.pop(_HELD, None) if record is not None else None
    if lock is not None:
        lock.release()


def install(engine: AsyncEngine) -> None:
    """Release a connection's turn when it goes back to the pool or is invalidated."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record)

    @event.listens_for(pool, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _release(record)


@asynccontextmanager
async def write_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the turn around a transaction sent at the driver (``store.event_batches``)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _lock_of(engine.sync_engine)
    held = await _acquire(lock)
    try:
        yield
    finally:
        if held:
            lock.release()
