"""The whole local Slack for page tests: ``handrail sandbox``'s own start-up, on free ports.

``local_world`` runs ``bot.sandbox_run.local_slack`` (the seeded emulator, the real Handrail
app with its own outbox worker delivering live, the signed driver and the page server) on
a fresh SQLite file, with the test workflows, and an automation's side: a token and the
HTTP API. The same helpers serve the screenshot and click benchmarks in ``bench/``.
Everything here runs on the browser's (session) event loop: fixtures say so.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from playwright.async_api import Locator, Page, expect

from bot import jobs
from bot.sandbox_run import LocalSlack, local_slack
from bot.settings import Settings
from workflows import credentials
from workflows.config.brief import HandrailConfig, parse_config

REVIEW_CHANNEL = "C0REVIEW"
ONCALL_CHANNEL = "C0ONCALL"
DRAFT = "Hi Sam, your parcel left the depot today and arrives on Friday. Best, Support"


@dataclass
class World:
    """The running sandbox and an automation's API session with a ticket-triage token."""

    sandbox: LocalSlack
    http: aiohttp.ClientSession
    token: str

    @property
    def page_url(self) -> str:
        return self.sandbox.page_url

    async def api(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.sandbox.handrail_url + path
        async with self.http.request(method, url, headers=headers, **kwargs) as response:
            body: dict[str, Any] = await response.json()
            assert response.status < 300, body
            return body

    async def start_run(self) -> str:
        return str((await self.api("POST", "/api/v1/runs", json={}))["run_id"])

    async def gate(self, run_id: str, *, draft: str = DRAFT) -> dict[str, Any]:
        body = {"action": "send_reply", "draft": draft, "confidence": 0.95}
        return await self.api("POST", f"/api/v1/runs/{run_id}/gate", json=body)

    async def open_review(self, *, draft: str = DRAFT) -> tuple[str, str]:
        """A run whose reply needs approval, as an automation asks: (run ID, handoff ID)."""
        run_id = await self.start_run()
        answer = await self.gate(run_id, draft=draft)
        assert answer["verdict"] == "review", answer
        return run_id, str(answer["handoff_id"])

    async def decision(self, handoff_id: str, *, wait: float = 10) -> dict[str, Any]:
        """What the automation's long poll returns (at once with ``wait=0``)."""
        return await self.api("GET", f"/api/v1/handoffs/{handoff_id}?wait={wait:g}")

    async def fail_repeatedly(self, times: int = 5) -> None:
        """``times`` runs whose order_lookup fails the same way: a repeated error."""
        for _ in range(times):
            run_id = await self.start_run()
            event = {"type": "tool", "name": "order_lookup", "status": "error"}
            event["error"] = "timeout after 30 s for invoice 123"
            await self.api("POST", f"/api/v1/runs/{run_id}/events", json={"events": [event]})

    async def alert_tick(self) -> None:
        """One alert evaluation, as the scheduler runs it; the live worker then posts."""
        await jobs.alert_tick(self.sandbox.services)
        self.sandbox.services.wake_outbox()


def browser_settings(tmp_path: Path, template: Path) -> Settings:
    """A fresh SQLite copy of the migrated template; the outbox worker on, no scheduler."""
    database = tmp_path / "handrail.db"
    shutil.copy(template, database)
    settings = Settings(
        HANDRAIL_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        HANDRAIL_CONFIG=tmp_path / "workflows.yml",
        HANDRAIL_HOST="127.0.0.1",
        HANDRAIL_OUTBOX_WORKER=True,
        HANDRAIL_SCHEDULER=False,
    )
    return settings.model_copy(update={"port": 0})


@asynccontextmanager
async def running_world(
    settings: Settings, config: HandrailConfig, **options: Any
) -> AsyncIterator[World]:
    async with local_slack(settings, config=config, page_port=0, **options) as sandbox:
        async with sandbox.services.sessions() as db, db.begin():
            token, _ = await credentials.create_token(
                db,
                workflow="ticket-triage",
                scopes=credentials.DEFAULT_SCOPES,
                expires_in=None,
                label="browser",
                now=sandbox.services.clock(),
            )
        async with aiohttp.ClientSession() as http:
            yield World(sandbox, http, token)


@pytest_asyncio.fixture(loop_scope="session")
async def world(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[World]:
    from tests.conftest import TEST_WORKFLOWS

    settings = browser_settings(tmp_path, sqlite_template)
    # A busy CI machine may take more than Slack's three seconds to acknowledge.
    options = {"post_rate": None, "ack_budget": 10.0}
    async with running_world(settings, parse_config(TEST_WORKFLOWS), **options) as running:
        yield running


async def open_page(page: Page, world: World, user: str, channel: str = REVIEW_CHANNEL) -> None:
    """The page as ``user`` sees ``channel``, once its stream is live."""
    await page.goto(f"{world.page_url}/?user={user}&channel={channel}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")


async def switch_user(page: Page, user: str) -> None:
    await page.get_by_label("Acting as").select_option(user)
    await expect(page.locator("#who")).to_have_value(user)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")


def message_with(page: Page, text: str) -> Locator:
    """The message in the open conversation that shows ``text``."""
    return page.locator("#messages .message").filter(has_text=text)


async def command(page: Page, line: str) -> None:
    box = page.get_by_label("Message", exact=True)
    await box.fill(line)
    await box.press("Enter")
    await expect(box).to_have_value("")
