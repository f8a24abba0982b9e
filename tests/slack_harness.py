"""The real Handrail app with Slack wired to the emulator, for the ``test_slack_*`` modules.

``slack`` is the whole loop over real HTTP: the aiohttp app (API and ``/slack/events``) on
a real port against the test's database, a ``SlackEmulator`` as Slack's Web API, and a
``SlackDriver`` sending requests signed as Slack signs them. Handoffs are opened through
the public API, as an automation would. Each module builds its ``slack`` fixture with
``running_slack`` (a plain context manager, so no fixture is imported across modules).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import build_app
from bot.outbox import OutboxWorker, PacingSettings, WorkerSettings
from bot.renderers.registry import default_renderers
from bot.services import Services
from bot.settings import Settings
from sandbox.driver import BotResponse, SlackDriver
from sandbox.emulator import SlackEmulator
from sandbox.models import Ephemeral, Message, View
from sandbox.testing import web_client
from sandbox.workspace import DEFAULT_TOKEN
from store.engine import create_engine, create_sessions
from store.models import Decision
from tests.conftest import Database, bearer
from workflows import credentials
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig
from workflows.review.handoff_keys import post_key

SIGNING_SECRET = "test-signing-secret"
REVIEW_CHANNEL = "C0REVIEW"
DRAFT = "Hi Sam,\nyour refund of 20 EUR is on its way.\nBest, Support"
T = TypeVar("T")
#: Slack's pacing is the worker's own concern (tested there); here it only gets in the way.
UNPACED = PacingSettings(
    channel_rate=1000, channel_burst=1000, workspace_rate=1000, workspace_burst=1000
)


async def eventually(probe: Callable[[], Awaitable[T | None]], *, what: str, tries: int = 500) -> T:
    """Poll ``probe`` until it returns something: bolt finishes a click after its ack.

    Bounded (about five seconds at most), and it returns as soon as the work is done.
    """
    for _ in range(tries):
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Slack:
    """One running Handrail with Slack, its emulator, a driver and an API token."""

    api: TestClient[Any, Any]
    emulator: SlackEmulator
    driver: SlackDriver
    services: Services
    token: str
    worker: OutboxWorker

    async def start_run(self) -> str:
        response = await self.api.post("/api/v1/runs", json={}, headers=bearer(self.token))
        assert response.status == 201, await response.text()
        return str((await response.json())["run_id"])

    async def open_review(self, *, draft: str = DRAFT) -> tuple[str, str]:
        """A run whose ``send_reply`` needs approval: (run ID, handoff ID)."""
        run_id = await self.start_run()
        response = await self.api.post(
            f"/api/v1/runs/{run_id}/gate",
            json={"action": "send_reply", "draft": draft, "confidence": 0.95},
            headers=bearer(self.token),
        )
        body = await response.json()
        assert body["verdict"] == "review", body
        return run_id, str(body["handoff_id"])

    async def open_tool_failure(self) -> tuple[str, str]:
        """A run whose tool failed, handed to a person: (run ID, handoff ID)."""
        run_id = await self.start_run()
        response = await self.api.post(
            f"/api/v1/runs/{run_id}/handoffs",
            json={
                "kind": "tool_failure",
                "summary": "order_lookup failed three times",
                "tool": "order_lookup",
                "error": "timeout after 30 s from order_lookup",
                "last_step": "classify",
            },
            headers=bearer(self.token),
        )
        assert response.status == 201, await response.text()
        return run_id, str((await response.json())["handoff_id"])

    async def deliver(self) -> int:
        """Let the real outbox worker deliver everything due (posts, updates, replies)."""
        return await self.worker.run_once()

    def posted(self, handoff_id: str) -> Message:
        """The handoff's message in the review channel, found by its outbox key."""
        key = post_key(handoff_id)
        for message in self.emulator.messages(REVIEW_CHANNEL):
            if (message.event_payload or {}).get("outbox_key") == key:
                return message
        raise LookupError(f"no message for {handoff_id} in {REVIEW_CHANNEL}")

    async def post_message(self, handoff_id: str) -> str:
        """Have the outbox worker post the handoff's message; returns the message ts."""
        await self.deliver()
        return self.posted(handoff_id).ts

    async def click(
        self, action_id: str, handoff_id: str, *, user: str = "U0ALICE", ts: str | None = None
    ) -> BotResponse:
        """``user`` clicks a button of the handoff's message (posted first if ``ts`` is None)."""
        ts = ts or await self.post_message(handoff_id)
        return await self.driver.click(
            action_id=action_id, user=user, channel=REVIEW_CHANNEL, message_ts=ts
        )

    async def get_run(self, run_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/api/v1/runs/{run_id}", headers=bearer(self.token))
        run: dict[str, Any] = await response.json()
        return run

    async def decision(self, handoff_id: str) -> Decision | None:
        async with self.services.readers() as db:
            found: Decision | None = await db.scalar(
                select(Decision).where(Decision.handoff_id == handoff_id)
            )
            return found

    async def decision_count(self) -> int:
        async with self.services.readers() as db:
            return int(await db.scalar(select(func.count()).select_from(Decision)) or 0)

    async def decided(self, handoff_id: str) -> Decision:
        """The handoff's decision, once the detached listener has recorded it."""

        async def probe() -> Decision | None:
            return await self.decision(handoff_id)

        return await eventually(probe, what=f"a decision on {handoff_id}")

    async def opened_view(self, user: str) -> View:
        """The modal the bot opened for ``user``, once ``views.open`` has happened."""

        async def probe() -> View | None:
            mine = [v for v in self.emulator.views if v.user == user and not v.closed]
            return mine[-1] if mine else None

        return await eventually(probe, what=f"a modal opened for {user}")

    async def ephemeral_to(self, user: str, *, count: int = 1) -> Ephemeral:
        """The ``count``-th ephemeral message ``user`` got, once it has arrived."""

        async def probe() -> Ephemeral | None:
            mine = [e for e in self.emulator.ephemerals if e.user == user]
            return mine[count - 1] if len(mine) >= count else None

        return await eventually(probe, what=f"an ephemeral message to {user}")


@asynccontextmanager
async def running_slack(
    *,
    database: Database,
    tmp_path: Path,
    clock: ManualClock,
    config: HandrailConfig,
    **emulator_seeds: Any,
) -> AsyncIterator[Slack]:
    """Start the emulator and the app on ``database``; each module wraps this in a fixture."""
    emulator_seeds.setdefault("post_rate", None)
    async with AsyncExitStack() as stack:
        emulator = await stack.enter_async_context(SlackEmulator(**emulator_seeds))
        settings = Settings(
            HANDRAIL_DATABASE_URL=database.url,
            HANDRAIL_DATABASE_SCHEMA=database.schema,
            HANDRAIL_CONFIG=tmp_path / "workflows.yml",
            SLACK_BOT_TOKEN=DEFAULT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emulator.api_url,
        )
        engine = create_engine(settings.database_url, schema=settings.database_schema)
        stack.push_async_callback(engine.dispose)
        services = Services(
            settings=settings,
            config=config,
            engine=engine,
            sessions=create_sessions(engine),
            clock=clock,
        )
        app = build_app(settings, services=services, migrate=False)
        api = await stack.enter_async_context(TestClient(TestServer(app)))
        driver = await stack.enter_async_context(
            SlackDriver(str(api.make_url("/slack/events")), SIGNING_SECRET, emulator)
        )
        async with services.sessions() as db, db.begin():
            token, _ = await credentials.create_token(
                db,
                workflow="ticket-triage",
                scopes=credentials.DEFAULT_SCOPES,
                expires_in=None,
                label="test",
                now=clock(),
            )
        worker = OutboxWorker(
            sessions=services.sessions,
            readers=services.readers,
            slack_client=web_client(emulator),
            renderers=default_renderers(),
            clock=clock,
            settings=WorkerSettings(pacing=UNPACED),
        )
        yield Slack(api, emulator, driver, services, token, worker)
