"""build_app wires everything: a gate question becomes a Slack message with no test help."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.app import build_app, warn_about_slack
from bot.services import Services
from bot.settings import Settings
from sandbox.testing import running_emulator
from sandbox.workspace import DEFAULT_TOKEN
from tests.conftest import MakeToken, bearer


async def test_the_apps_own_outbox_worker_posts_the_handoff(
    settings: Settings, services: Services, make_token: MakeToken
) -> None:
    """With Slack configured, the app's outbox worker posts a new handoff to the review channel."""
    async with running_emulator() as emulator:
        wired = settings.model_copy(
            update={
                "outbox_worker_enabled": True,
                "slack_bot_token": SecretStr(DEFAULT_TOKEN),
                "slack_signing_secret": SecretStr("test-signing-secret"),
                "slack_api_url": emulator.api_url,
            }
        )
        services.settings = wired
        app = build_app(wired, services=services, migrate=False)
        client: TestClient[Any, Any]
        async with TestClient(TestServer(app)) as client:
            token = await make_token()
            run = await (await client.post("/api/v1/runs", json={}, headers=bearer(token))).json()
            await client.post(
                f"/api/v1/runs/{run['run_id']}/gate",
                json={"action": "send_reply", "draft": "Hello <!channel>", "confidence": 0.9},
                headers=bearer(token),
            )
            for _ in range(200):
                if emulator.messages("C0REVIEW"):
                    break
                await asyncio.sleep(0.02)
            messages = emulator.messages("C0REVIEW")
    assert len(messages) == 1
    assert "<!channel>" not in str(messages[0].blocks)
    assert "&lt;!channel&gt;" in str(messages[0].blocks)


def test_start_up_says_what_a_partial_slack_set_up_leaves_out(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """No bot token: delivery is off. A token but no way in: nobody can click. Both: quiet."""
    bot_only = settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-1")})
    complete = bot_only.model_copy(update={"slack_signing_secret": SecretStr("secret")})
    said = []
    for each in (settings, bot_only, complete):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="handrail"):
            warn_about_slack(each)
        said.append(caplog.text)
    assert "Slack delivery is off" in said[0]
    assert "nobody can decide a handoff" in said[1]
    assert "SLACK_SIGNING_SECRET" in said[1]
    assert said[2] == ""
