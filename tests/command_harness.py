"""Slash commands end to end: the running app of ``tests.slack_harness``, plus what the
command tests need on top: the pause-notice renderer in the outbox worker, the private
answer a command got (matched by its own response_url), and a second Handrail instance on
the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.outbox import OutboxWorker, WorkerSettings
from bot.renderers import pause as renderers_pause
from bot.renderers.chart_uploads import register_chart_uploads
from bot.renderers.registry import default_renderers
from bot.services import Services
from sandbox.driver import BotResponse
from sandbox.models import ResponsePost
from sandbox.testing import web_client
from store.engine import create_engine, create_sessions
from tests.conftest import Database, bearer
from tests.slack_harness import UNPACED, Slack, eventually, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@asynccontextmanager
async def running_commands(
    *, database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    """``running_slack`` whose outbox worker also renders pause notices."""
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as slack:
        renderers = default_renderers()
        renderers_pause.register(renderers)
        register_chart_uploads(renderers, config=config)
        slack.worker = OutboxWorker(
            sessions=slack.services.sessions,
            readers=slack.services.readers,
            slack_client=web_client(slack.emulator),
            renderers=renderers,
            clock=clock,
            settings=WorkerSettings(pacing=UNPACED),
        )
        yield slack


async def answer_to(slack: Slack, sent: BotResponse) -> dict[str, Any]:
    """The body the bot posted to the response_url of ``sent`` (a command or a click)."""
    assert sent.status == 200, sent.text
    assert sent.response_url is not None
    url_id = sent.response_url.rstrip("/").rsplit("/", 1)[-1]

    async def probe() -> ResponsePost | None:
        return next((r for r in slack.emulator.responses if r.url_id == url_id), None)

    post = await eventually(probe, what=f"an answer on {sent.response_url}")
    assert post.status == 200, post.body
    body: dict[str, Any] = post.body
    return body


async def command(
    slack: Slack, name: str, text: str = "", *, user: str, channel: str = "C0REVIEW"
) -> dict[str, Any]:
    """``user`` types ``/name text``; returns the private answer."""
    sent = await slack.driver.command(name, text, user=user, channel=channel)
    return await answer_to(slack, sent)


def text_of(answer: dict[str, Any]) -> str:
    """Everything a person reads in an answer: its text and the text of every block."""
    parts = [str(answer.get("text") or "")]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                parts.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answer.get("blocks") or [])
    return "\n".join(parts)


@asynccontextmanager
async def second_instance(slack: Slack) -> AsyncIterator[TestClient[Any, Any]]:
    """Another Handrail (own engine, own process state) on the same database, API only."""
    settings = slack.services.settings.model_copy(
        update={"slack_bot_token": None, "slack_signing_secret": None}
    )
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    services = Services(
        settings=settings,
        config=slack.services.config,
        engine=engine,
        sessions=create_sessions(engine),
        clock=slack.services.clock,
    )
    async with TestClient(TestServer(build_app(settings, services=services, migrate=False))) as c:
        yield c


async def gate_verdict(api: TestClient[Any, Any], token: str, run_id: str) -> dict[str, Any]:
    response = await api.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "tag", "confidence": 0.99},
        headers=bearer(token),
    )
    body: dict[str, Any] = await response.json()
    return body
