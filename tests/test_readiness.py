"""``/readyz`` asks the database and says what is wrong; ``/healthz`` stays a liveness probe."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import build_app
from bot.services import Services
from bot.settings import Settings
from store.engine import create_engine, create_sessions
from store.migrate import head_revision, upgrade_database
from workflows.config.brief import HandrailConfig


async def test_readyz_answers_200_with_the_schema_revision(client: TestClient[Any, Any]) -> None:
    """A reachable, migrated database is ready, and the answer names the revision."""
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body == {"ready": True, "checks": {"database": {"ok": True, "schema": head_revision()}}}


async def test_readyz_says_the_schema_is_behind(
    tmp_path: Path, config: HandrailConfig, services: Services
) -> None:
    """A database migrated to an older revision is not ready: 503 naming ``db upgrade``."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_database(engine, "0003")
    settings = Settings(HANDRAIL_DATABASE_URL=f"sqlite+aiosqlite:///{path}")
    old = Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=create_sessions(engine),
        clock=services.clock,
    )
    app = build_app(settings, services=old, migrate=False)
    app.on_startup.clear()  # start-up would refuse the old schema; readiness must report it
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        body = await response.json()
    await engine.dispose()
    assert response.status == 503
    database = body["checks"]["database"]
    assert (body["ready"], database["problem"]) == (False, "schema_behind")
    assert "handrail db upgrade" in database["message"]


async def test_readyz_says_the_database_is_unreachable(
    tmp_path: Path, config: HandrailConfig, services: Services
) -> None:
    """A database that cannot be opened is reported as unreachable with a 503, while
    ``/healthz`` still answers 200: the process lives, it just cannot work."""
    missing = tmp_path / "no-such-dir" / "handrail.db"
    settings = Settings(HANDRAIL_DATABASE_URL=f"sqlite+aiosqlite:///{missing}")
    engine = create_engine(settings.database_url)
    broken = Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=create_sessions(engine),
        clock=services.clock,
    )
    app = build_app(settings, services=broken, migrate=False)
    app.on_startup.clear()
    threads_before = set(threading.enumerate())
    async with TestClient(TestServer(app)) as client:
        ready = await client.get("/readyz")
        body = await ready.json()
        alive = await client.get("/healthz")
    await engine.dispose()
    # aiosqlite answers a failed open from its own thread; on a loaded machine that answer
    # can come after this test's event loop is closed, and then fails in the thread. Wait
    # for the threads this test started, so the loop outlives them.
    for thread in set(threading.enumerate()) - threads_before:
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 10)
    assert (ready.status, alive.status) == (503, 200)
    assert body["checks"]["database"]["problem"] == "unreachable"
    assert "unable to open database file" in body["checks"]["database"]["message"]


async def test_readyz_says_the_schema_is_newer(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A schema written by a newer Handrail is reported as such, with a 503."""
    bump = text("UPDATE alembic_version SET version_num = :revision")
    async with services.engine.begin() as connection:
        await connection.execute(bump, {"revision": "9999"})
    try:
        response = await client.get("/readyz")
        body = await response.json()
    finally:  # the PostgreSQL schema is shared by the session's tests
        async with services.engine.begin() as connection:
            await connection.execute(bump, {"revision": head_revision()})
    assert response.status == 503
    assert body["checks"]["database"]["problem"] == "schema_ahead"
    assert "upgrade Handrail" in body["checks"]["database"]["message"]
