"""SQLite writers of one process queue on the engine's lock and always hand it back."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store import write_lock
from store.engine import create_engine, create_read_sessions, create_sessions


@pytest.fixture
async def engine(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    path = tmp_path / "handrail.db"
    shutil.copy(sqlite_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


def turn_taken(engine: AsyncEngine) -> bool:
    return write_lock._lock_of(engine.sync_engine).locked()


async def settle() -> None:
    """Let every ready task run until it blocks."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_write_transaction_holds_the_turn_until_it_commits(engine: AsyncEngine) -> None:
    """The turn is taken when a write transaction begins and handed back at its commit."""
    async with create_sessions(engine)() as db, db.begin():
        await db.execute(text("SELECT 1"))
        assert turn_taken(engine)
    assert not turn_taken(engine)


async def test_a_failed_transaction_hands_the_turn_back(engine: AsyncEngine) -> None:
    """A transaction that raises rolls back and releases the turn for the next writer."""

    async def fail_halfway() -> None:
        async with create_sessions(engine)() as db, db.begin():
            await db.execute(text("SELECT 1"))
            raise LookupError("the work failed")

    with pytest.raises(LookupError):
        await fail_halfway()
    assert not turn_taken(engine)


async def test_a_reader_does_not_take_the_turn(engine: AsyncEngine) -> None:
    """Read sessions never queue behind writers."""
    async with create_read_sessions(engine)() as db, db.begin():
        await db.execute(text("SELECT 1"))
        assert not turn_taken(engine)


async def test_a_second_writer_waits_for_the_first_to_commit(engine: AsyncEngine) -> None:
    """A writer that begins while another holds the turn starts once the other commits."""
    sessions = create_sessions(engine)
    order: list[str] = []

    async def second() -> None:
        async with sessions() as db, db.begin():
            await db.execute(text("SELECT 1"))
            order.append("second began")

    async with sessions() as db, db.begin():
        await db.execute(text("SELECT 1"))
        waiting = asyncio.create_task(second())
        await settle()
        order.append("first commits")
    await waiting
    assert order == ["first commits", "second began"]
    assert not turn_taken(engine)


async def test_one_connection_may_run_transactions_back_to_back(engine: AsyncEngine) -> None:
    """Two transactions on one checked-out connection do not wait for each other."""
    async with engine.connect() as connection:
        for _ in range(2):
            async with connection.begin():
                await connection.execute(text("SELECT 1"))
    assert not turn_taken(engine)


async def test_a_driver_level_transaction_takes_the_same_turn(engine: AsyncEngine) -> None:
    """The ingestion path's transaction at the driver queues with the ORM's writers."""
    async with write_lock.write_turn(engine):
        assert turn_taken(engine)
    assert not turn_taken(engine)
