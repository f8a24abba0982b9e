"""How Slack is mounted (HTTP, Socket Mode, or not at all) and how usergroups are cached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.services import Services
from bot.slack.app import SLACK_APP, SOCKET_MODE, build_slack_app
from bot.slack.directory import SlackMemberDirectory
from sandbox.emulator import SlackEmulator
from sandbox.testing import running_emulator, web_client
from workflows.clock import ManualClock


@pytest.fixture
async def emulator() -> AsyncIterator[SlackEmulator]:
    async with running_emulator() as emu:
        yield emu


def with_slack(services: Services, **slack: Any) -> Services:
    """The same services with Slack settings added (``SLACK_BOT_TOKEN=...`` and so on)."""
    settings = services.settings.model_copy(
        update={key.lower(): value for key, value in slack.items()}
    )
    return Services(
        settings=settings,
        config=services.config,
        engine=services.engine,
        sessions=services.sessions,
        clock=services.clock,
    )


def test_the_bolt_app_acknowledges_after_ack_not_after_the_work(services: Services) -> None:
    """The bolt app answers Slack at ack() and lets the work run on (no process_before_response)."""
    app = build_slack_app(with_slack(services, SLACK_BOT_TOKEN=SecretStr("xoxb-test-token")))
    assert app.process_before_response is False


async def test_without_a_signing_secret_nothing_listens_for_slack(services: Services) -> None:
    """With a bot token but no signing secret or app token, /slack/events is not served."""
    slack = with_slack(services, SLACK_BOT_TOKEN=SecretStr("xoxb-test-token"))
    app = build_app(slack.settings, services=slack, migrate=False)
    assert SLACK_APP not in app
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/slack/events", data="payload={}")
    assert response.status in (404, 405)


async def test_an_app_token_builds_a_socket_mode_handler(services: Services) -> None:
    """SLACK_APP_TOKEN gives a Socket Mode handler on the same bolt app, built at start-up."""
    slack = with_slack(
        services,
        SLACK_BOT_TOKEN=SecretStr("xoxb-test-token"),
        SLACK_APP_TOKEN=SecretStr("xapp-1-test"),
    )
    app = build_app(slack.settings, services=slack, migrate=False)
    handler = app[SOCKET_MODE].build()
    assert isinstance(handler, AsyncSocketModeHandler)
    assert handler.app is app[SLACK_APP]
    assert handler.app_token == "xapp-1-test"
    await app[SOCKET_MODE].close()


async def test_usergroup_members_are_cached_for_a_minute(emulator: SlackEmulator) -> None:
    """Within the TTL the directory answers from its cache; Slack is asked once."""
    clock = ManualClock()
    directory = SlackMemberDirectory(web_client(emulator), clock=clock)
    first = await directory.usergroup_members("S0REVIEWERS")
    clock.advance(seconds=59)
    again = await directory.usergroup_members("S0REVIEWERS")
    assert first == again == frozenset({"U0ALICE", "U0BOB"})
    assert len(emulator.calls_to("usergroups.users.list")) == 1


async def test_usergroup_members_are_read_again_after_the_ttl(emulator: SlackEmulator) -> None:
    """After the TTL a change in the group is seen."""
    clock = ManualClock()
    directory = SlackMemberDirectory(web_client(emulator), clock=clock, ttl=timedelta(seconds=60))
    await directory.usergroup_members("S0REVIEWERS")
    emulator.workspace.usergroups["S0REVIEWERS"] = ["U0BOB"]
    clock.advance(seconds=60)
    assert await directory.usergroup_members("S0REVIEWERS") == frozenset({"U0BOB"})


async def test_concurrent_lookups_share_one_call(emulator: SlackEmulator) -> None:
    """Many clicks missing the cache at once cause a single usergroups.users.list."""
    directory = SlackMemberDirectory(web_client(emulator), clock=ManualClock())
    results = await asyncio.gather(*(directory.usergroup_members("S0ONCALL") for _ in range(10)))
    assert set(results) == {frozenset({"U0ALICE"})}
    assert len(emulator.calls_to("usergroups.users.list")) == 1


async def test_an_unknown_usergroup_is_an_error_not_an_empty_group(
    emulator: SlackEmulator,
) -> None:
    """A usergroup Slack does not know raises, so a typo never silently denies or allows."""
    directory = SlackMemberDirectory(web_client(emulator), clock=ManualClock())
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        await directory.usergroup_members("S0TYPO")
