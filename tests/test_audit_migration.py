"""Upgrading a store chains the audit entries it has, and records its older decisions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.engine import create_sessions
from store.migrate import upgrade_database
from tests.conftest import Database
from tests.test_migrations import downgrade_database, old_store
from workflows.audit.verify import verify_audit_log


@pytest.fixture
async def engine_at_0007(
    database: Database, tmp_path: Path
) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    """A store of its own, migrated to 0007: audit entries without a chain."""
    async with old_store(database, tmp_path, "0007") as store:
        yield store


async def test_upgrading_chains_existing_entries_and_decisions(
    engine_at_0007: tuple[AsyncEngine, str | None],
) -> None:
    """Two older entries and one older decision become a three-entry chain that verifies."""
    engine, schema = engine_at_0007
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    async with engine.begin() as connection:
        for statement in (
            "INSERT INTO workflows (name, created_at) VALUES ('ticket-triage', :now)",
            "INSERT INTO runs (id, workflow, status, started_at, event_count)"
            " VALUES ('r1', 'ticket-triage', 'running', :now, 0)",
            "INSERT INTO handoffs (id, run_id, workflow, kind, status, summary, created_at)"
            " VALUES ('h1', 'r1', 'ticket-triage', 'draft', 'approved', 'a draft', :now)",
            "INSERT INTO decisions (handoff_id, run_id, outcome, reviewer, final_text,"
            " decided_at, latency_ms) VALUES ('h1', 'r1', 'approved', 'U0ALICE', 'Hi', :now, 5)",
            "INSERT INTO audit_log (at, actor, action, workflow, details)"
            " VALUES (:now, 'U0OWNER', 'workflow.pause', 'ticket-triage', :details)",
            "INSERT INTO audit_log (at, actor, action, workflow, details)"
            " VALUES (:now, 'U0OWNER', 'workflow.resume', 'ticket-triage', NULL)",
        ):
            await connection.execute(
                text(statement), {"now": now, "details": json.dumps({"reason": "bad drafts"})}
            )
    await upgrade_database(engine, schema=schema)
    async with create_sessions(engine)() as db, db.begin():
        result = await verify_audit_log(db)
    assert result.broken is None
    assert (result.entries, result.decisions) == (3, 1)
    await downgrade_database(engine, "0007")
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM audit_log")) == 3
        assert await connection.scalar(text("SELECT count(*) FROM decisions")) == 1
