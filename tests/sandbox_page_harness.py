"""The sandbox page server beside the real Handrail app, for ``test_sandbox_page_*`` modules.

Wraps ``tests.slack_harness.running_slack`` (the app on a real port, the emulator, the
signed driver) with the emulator seeded from the test workflows as ``handrail sandbox``
seeds it, and the page server's aiohttp test client. Server-Sent Events are read from the
real stream, one ``event:``/``data:`` frame at a time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from sandbox.web.seed import Seed, seed_from_config
from sandbox.web.server import build_page_app
from tests.conftest import Database
from tests.slack_harness import Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

STRANGER = "U0STRANGER"


@dataclass
class Sandbox:
    slack: Slack
    page: TestClient[Any, Any]
    seed: Seed

    async def act(self, what: str, **body: Any) -> tuple[int, dict[str, Any]]:
        """POST one action as the page does: (status, JSON answer)."""
        response = await self.page.post(f"/api/{what}", json=body)
        return response.status, await response.json()

    async def state(self, user: str) -> dict[str, Any]:
        response = await self.page.get("/api/state", params={"user": user})
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


async def next_event(stream: ClientResponse) -> tuple[str, dict[str, Any]]:
    """The next SSE frame's (event name, data), skipping keep-alive comments.

    Bounded: an event that never comes fails the test instead of hanging it.
    """
    name, data = "message", ""
    while True:
        async with asyncio.timeout(10):
            line = (await stream.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and data:
            return name, json.loads(data)


@asynccontextmanager
async def running_sandbox(
    *, database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Sandbox]:
    seed = seed_from_config(config)
    async with running_slack(
        database=database,
        tmp_path=tmp_path,
        clock=clock,
        config=config,
        users=seed.users,
        channels=seed.channels,
        usergroups=seed.usergroups,
    ) as slack:
        app = build_page_app(driver=slack.driver, seed=seed)
        async with TestClient(TestServer(app)) as page:
            yield Sandbox(slack, page, seed)
