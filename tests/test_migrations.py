"""The migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services import Services
from store.engine import create_engine
from store.migrate import alembic_config, upgrade_database
from store.models import Base
from tests.conftest import POSTGRES_URL, Database, drop_schema


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def downgrade_database(engine: AsyncEngine, revision: str) -> None:
    def _downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_downgrade)


async def test_migrated_schema_matches_the_models(services: Services) -> None:
    """After every migration, autogenerate finds nothing left to change."""
    async with services.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


@asynccontextmanager
async def old_store(
    database: Database, tmp_path: Path, revision: str
) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    """A store of its own, migrated to ``revision``: an installation from before the next."""
    if database.schema is None:
        url, schema = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", None
    else:
        url, schema = POSTGRES_URL, f"{database.schema}_old"
    engine = create_engine(url, schema=schema)
    await upgrade_database(engine, revision, schema=schema)
    yield engine, schema
    await engine.dispose()
    if schema is not None:
        await drop_schema(schema)


@pytest.fixture
async def engine_at_0003(
    database: Database, tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    """A store of its own, migrated to 0003: an installation from before 0004."""
    async with old_store(database, tmp_path, "0003") as store:
        yield store


@pytest.fixture
async def engine_at_0004(
    database: Database, tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    """A store of its own, migrated to 0004: server step keys still among client IDs."""
    async with old_store(database, tmp_path, "0004") as store:
        yield store


async def test_upgrading_an_existing_store_keeps_its_decisions(
    engine_at_0003: tuple[AsyncEngine, str | None],
) -> None:
    """0004 adds columns to handoffs without rebuilding the table: on SQLite a rebuild
    would drop it, and the foreign key's cascade would take every decision with it."""
    engine, schema = engine_at_0003
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    async with engine.begin() as connection:
        for statement in (
            "INSERT INTO workflows (name, created_at) VALUES ('ticket-triage', :now)",
            "INSERT INTO runs (id, workflow, status, started_at, event_count)"
            " VALUES ('r1', 'ticket-triage', 'running', :now, 0)",
            "INSERT INTO handoffs (id, run_id, workflow, kind, status, summary, created_at)"
            " VALUES ('h1', 'r1', 'ticket-triage', 'draft', 'approved', 'a draft', :now)",
            "INSERT INTO decisions (handoff_id, run_id, outcome, reviewer, decided_at, latency_ms)"
            " VALUES ('h1', 'r1', 'approved', 'U0ALICE', :now, 5)",
        ):
            await connection.execute(text(statement), {"now": now})
    await upgrade_database(engine, schema=schema)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM decisions")) == 1
        shadow = await connection.scalar(text("SELECT shadow FROM handoffs WHERE id = 'h1'"))
    assert not shadow
    await downgrade_database(engine, "0003")
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM decisions")) == 1


async def test_upgrading_moves_server_step_keys_out_of_client_ids(
    engine_at_0004: tuple[AsyncEngine, str | None],
) -> None:
    """0005 moves the gate's own ``gate:`` key to ``server_key``; a client's look-alike stays."""
    engine, schema = engine_at_0004
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    async with engine.begin() as connection:
        for statement in (
            "INSERT INTO workflows (name, created_at) VALUES ('ticket-triage', :now)",
            "INSERT INTO runs (id, workflow, status, started_at, event_count)"
            " VALUES ('r1', 'ticket-triage', 'running', :now, 2)",
            "INSERT INTO events (run_id, workflow, seq, client_id, type, name, recorded_at)"
            " VALUES ('r1', 'ticket-triage', 1, 'gate:q1', 'gate', 'refund', :now)",
            "INSERT INTO events (run_id, workflow, seq, client_id, type, name, recorded_at)"
            " VALUES ('r1', 'ticket-triage', 2, 'gate:q2', 'note', 'forged', :now)",
        ):
            await connection.execute(text(statement), {"now": now})
    await upgrade_database(engine, schema=schema)
    query = text("SELECT seq, client_id, server_key FROM events ORDER BY seq")
    async with engine.connect() as connection:
        assert [tuple(row) for row in await connection.execute(query)] == [
            (1, None, "gate:q1"),
            (2, "gate:q2", None),
        ]
    await downgrade_database(engine, "0004")
    query = text("SELECT seq, client_id FROM events ORDER BY seq")
    async with engine.connect() as connection:
        rows = [tuple(row) for row in await connection.execute(query)]
    assert rows == [(1, "gate:q1"), (2, "gate:q2")]
