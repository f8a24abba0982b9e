"""The emulator's HTTP control API: inspect calls, arm faults, go down, reset, move time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.clock import ManualClock
from sandbox.emulator import SlackEmulator
from sandbox.testing import running_emulator, web_client


@pytest.fixture
def slack_clock() -> ManualClock:
    return ManualClock(start=1_767_600_000.0)


@pytest.fixture
async def emulator(slack_clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=slack_clock) as emu:
        yield emu


@pytest.fixture
def slack(emulator: SlackEmulator) -> AsyncWebClient:
    return web_client(emulator)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as res:
        assert res.status == 200
        return await res.json()


async def post(http: aiohttp.ClientSession, url: str, body: Any = None) -> tuple[int, Any]:
    async with http.post(url, json=body) as res:
        return res.status, await res.json()


async def test_calls_are_listed_as_json(
    slack: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """GET /_emulator/calls lists each call with its method, body and answer."""
    await slack.chat_postMessage(channel="C0REVIEW", text="hello")
    [call] = await get(http, f"{emulator.url}/_emulator/calls")
    assert (call["method"], call["body"]["text"], call["ok"]) == ("chat.postMessage", "hello", True)


async def test_calls_can_be_filtered_by_method(
    slack: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """?method= keeps only the calls to that method."""
    await slack.auth_test()
    await slack.chat_postMessage(channel="C0REVIEW", text="hello")
    calls = await get(http, f"{emulator.url}/_emulator/calls?method=auth.test")
    assert [c["method"] for c in calls] == ["auth.test"]


async def test_messages_of_a_channel_are_listed(
    slack: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """GET /_emulator/messages/<channel> lists the stored messages."""
    await slack.chat_postMessage(channel="C0REVIEW", text="hello")
    messages = await get(http, f"{emulator.url}/_emulator/messages/C0REVIEW")
    assert [m["text"] for m in messages] == ["hello"]


async def test_a_fault_armed_over_http_fires(
    slack: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """POST /_emulator/faults arms a fault that the next matching call meets."""
    body = {"method": "chat.postMessage", "fault": "http_500", "times": 1}
    assert (await post(http, f"{emulator.url}/_emulator/faults", body))[0] == 200
    with pytest.raises(SlackApiError) as caught:
        await slack.chat_postMessage(channel="C0REVIEW", text="hello")
    assert caught.value.response.status_code == 500


async def test_a_malformed_fault_is_a_400(
    emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """A fault without a method is refused with 400 and a reason."""
    status, body = await post(http, f"{emulator.url}/_emulator/faults", {"fault": "http_500"})
    assert (status, body["ok"]) == (400, False)


async def test_down_is_switched_over_http(
    slack: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """POST /_emulator/down {"down": true} makes Web API calls answer 503."""
    await post(http, f"{emulator.url}/_emulator/down", {"down": True})
    with pytest.raises(SlackApiError) as caught:
        await slack.auth_test()
    assert caught.value.response.status_code == 503


async def test_the_control_api_stays_up_while_slack_is_down(
    emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """Down mode does not touch /_emulator, so it can be switched back up."""
    emulator.down = True
    status, body = await post(http, f"{emulator.url}/_emulator/down", {"down": False})
    assert (status, body["down"], emulator.down) == (200, False, False)


async def test_reset_over_http_empties_the_workspace(
    slack: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """POST /_emulator/reset forgets messages and calls."""
    await slack.chat_postMessage(channel="C0REVIEW", text="hello")
    await post(http, f"{emulator.url}/_emulator/reset")
    assert (emulator.messages("C0REVIEW"), emulator.calls) == ([], [])


async def test_the_manual_clock_is_advanced_over_http(
    emulator: SlackEmulator, slack_clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    """POST /_emulator/clock {"advance": 5} moves the injected clock five seconds."""
    before = slack_clock()
    status, body = await post(http, f"{emulator.url}/_emulator/clock", {"advance": 5})
    assert (status, body["now"]) == (200, before + 5)


async def test_state_lists_the_seeded_workspace(
    emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    """GET /_emulator/state names the seeded channels and usergroups."""
    state = await get(http, f"{emulator.url}/_emulator/state")
    assert "C0REVIEW" in [c["id"] for c in state["channels"]]
    assert state["usergroups"]["S0ONCALL"] == ["U0ALICE"]
