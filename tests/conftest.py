"""Shared fixtures: real databases (a SQLite file and PostgreSQL), the real app over HTTP.

PostgreSQL tests are mandatory when ``CI=true`` or ``HANDRAIL_REQUIRE_POSTGRES=1`` (as
``make check`` sets); a plain developer run skips them with a message when no server answers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import build_app
from bot.services import Services
from bot.settings import Settings
from store.engine import create_engine, create_sessions
from store.migrate import upgrade_database
from store.models import Base
from workflows import credentials
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config

# Tests drive scheduled jobs directly with a ManualClock; no app starts its own scheduler.
os.environ.setdefault("HANDRAIL_SCHEDULER", "false")
# Likewise the outbox: tests deliver with their own worker's run_once(), so delivery is
# deterministic; test_app_wiring starts the app's own worker explicitly.
os.environ.setdefault("HANDRAIL_OUTBOX_WORKER", "false")
if TYPE_CHECKING:
    from tests.alert_harness import OnCall

POSTGRES_URL = os.environ.get(
    "HANDRAIL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = (
    os.environ.get("CI") == "true" or os.environ.get("HANDRAIL_REQUIRE_POSTGRES") == "1"
)

TEST_WORKFLOWS: dict[str, Any] = {
    "workflows": {
        "ticket-triage": {
            "description": "Tag and route support tickets, draft replies for review.",
            "owner": "U0OWNER",
            "review_channel": "C0REVIEW",
            "alert_channel": "C0ONCALL",
            "reviewers": ["U0ALICE", "U0BOB"],
            "admins": ["U0OWNER"],
            "oncall": ["U0ALICE"],
            "mode": "review",
            "allowed_actions": ["tag", "route", "send_reply", "refund"],
            "require_approval": ["send_reply", "refund"],
            "confidence_threshold": 0.8,
            "stop_topics": ["refund", "legal", "account access"],
            "redact": ["secrets", "emails", "phones", "card_numbers"],
        },
        "invoice-extraction": {
            "reviewers": ["U0ALICE"],
            "admins": ["U0OWNER"],
            "review_channel": "C0REVIEW",
            "mode": "auto",
            "allowed_actions": ["record_invoice"],
        },
    }
}


@dataclass(frozen=True)
class Database:
    """Where a test's store lives: a fresh SQLite file or a clean PostgreSQL schema."""

    backend: str
    url: str
    schema: str | None = None


def run_blocking(factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine to completion on its own loop in a worker thread.

    Session fixtures are first requested from inside a test's running loop, where
    ``asyncio.run`` is not allowed.
    """

    async def _call() -> Any:
        return await factory()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _call()).result()


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL at {POSTGRES_URL} is not usable ({reason})"
    if REQUIRE_POSTGRES:
        pytest.fail(f"{message}; PostgreSQL tests are mandatory here", pytrace=False)
    pytest.skip(f"{message}; start it or set HANDRAIL_TEST_POSTGRES_URL to run them")


async def _create_schema(schema: str) -> None:
    """Migrating creates the missing schema, as ``handrail db upgrade`` does for a user."""
    engine = create_engine(POSTGRES_URL, schema=schema)
    await upgrade_database(engine, schema=schema)
    await engine.dispose()


async def drop_schema(schema: str) -> None:
    engine = create_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A schema of its own in the test database, migrated once for the whole session."""
    schema = f"handrail_test_{uuid.uuid4().hex[:10]}"
    try:
        run_blocking(lambda: _create_schema(schema))
    except (OSError, ConnectionError) as exc:
        _postgres_unavailable(str(exc))
    yield schema
    run_blocking(lambda: drop_schema(schema))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once."""
    path = tmp_path_factory.mktemp("template") / "handrail.db"

    async def _migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade_database(engine)
        await engine.dispose()

    run_blocking(_migrate)
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """Each test runs once on a fresh SQLite file and once on a clean PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "handrail.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Database("sqlite", f"sqlite+aiosqlite:///{path}")
    schema = request.getfixturevalue("postgres_schema")
    engine = create_engine(POSTGRES_URL, schema=schema)
    tables = ", ".join(
        f'"{table.name}"' for table in Base.metadata.sorted_tables if table.name != "leases"
    )
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables}, leases RESTART IDENTITY CASCADE"))
    await engine.dispose()
    return Database("postgres", POSTGRES_URL, schema)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def config() -> HandrailConfig:
    return parse_config(TEST_WORKFLOWS)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        HANDRAIL_DATABASE_URL=database.url,
        HANDRAIL_DATABASE_SCHEMA=database.schema,
        HANDRAIL_CONFIG=tmp_path / "workflows.yml",
        HANDRAIL_MAX_BODY_BYTES=256 * 1024,
    )


@asynccontextmanager
async def open_services(
    settings: Settings, config: HandrailConfig, clock: ManualClock, **engine_options: Any
) -> AsyncIterator[Services]:
    """Services on the test's store; ``engine_options`` tune its pool (size, timeout)."""
    engine = create_engine(settings.database_url, schema=settings.database_schema, **engine_options)
    try:
        yield Services(
            settings=settings,
            config=config,
            engine=engine,
            sessions=create_sessions(engine),
            clock=clock,
        )
    finally:
        await engine.dispose()


@pytest.fixture
async def services(
    settings: Settings, config: HandrailConfig, clock: ManualClock
) -> AsyncIterator[Services]:
    async with open_services(settings, config, clock) as opened:
        yield opened


@pytest.fixture
async def client(settings: Settings, services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    """The real aiohttp app on a real port, against the test's database."""
    app = build_app(settings, services=services, migrate=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


MakeToken = Callable[..., Awaitable[str]]


@pytest.fixture
def make_token(services: Services) -> MakeToken:
    """Create a workflow token the way ``handrail token create`` does."""

    async def _make(
        workflow: str = "ticket-triage",
        scopes: tuple[str, ...] = credentials.DEFAULT_SCOPES,
        expires_in: Any = None,
    ) -> str:
        async with services.sessions() as db, db.begin():
            token, _ = await credentials.create_token(
                db,
                workflow=workflow,
                scopes=scopes,
                expires_in=expires_in,
                label="test",
                now=services.clock(),
            )
        return token

    return _make


@pytest.fixture
async def token(client: TestClient[Any, Any], make_token: MakeToken) -> str:
    """A ticket-triage token with the default scopes (the app is started first)."""
    return await make_token()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def oncall(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[OnCall]:
    """The alerting world: the real app, the emulator as Slack, a worker and a tick."""
    from tests.alert_harness import running_oncall  # the harness imports this module

    async with running_oncall(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running
