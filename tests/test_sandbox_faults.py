"""The emulator rate-limits and fails on demand, as the real slack_sdk client sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.clock import ManualClock
from sandbox.emulator import SlackEmulator
from sandbox.faults import TEXT_ANSWER
from sandbox.testing import running_emulator, web_client
from sandbox.workspace import DEFAULT_TOKEN


@pytest.fixture
def slack_clock() -> ManualClock:
    return ManualClock(start=1_767_600_000.0)


@pytest.fixture
async def emulator(slack_clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=slack_clock, post_rate=1.0, post_burst=2) as emu:
        yield emu


@pytest.fixture
def slack(emulator: SlackEmulator) -> AsyncWebClient:
    return web_client(emulator)


async def post(slack: AsyncWebClient, channel: str = "C0REVIEW") -> str:
    answer = await slack.chat_postMessage(channel=channel, text="x")
    return str(answer["ts"])


async def refused(slack: AsyncWebClient, channel: str = "C0REVIEW") -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await post(slack, channel)
    return caught.value


async def test_posts_beyond_the_burst_get_429_with_retry_after(slack: AsyncWebClient) -> None:
    """Past the burst, chat.postMessage answers HTTP 429, ratelimited and Retry-After."""
    await post(slack)
    await post(slack)
    error = await refused(slack)
    assert (error.response.status_code, error.response["error"]) == (429, "ratelimited")
    assert error.response.headers["Retry-After"] == "1"


async def test_retry_after_is_the_honest_wait() -> None:
    """At one post per 10 s, Retry-After says 10."""
    async with running_emulator(clock=ManualClock(0.0), post_rate=0.1, post_burst=1) as emu:
        slack = web_client(emu)
        await post(slack)
        error = await refused(slack)
    assert error.response.headers["Retry-After"] == "10"


async def test_the_bucket_refills_as_the_clock_moves(
    slack: AsyncWebClient, slack_clock: ManualClock
) -> None:
    """After Retry-After seconds of emulator time, the next post goes through."""
    await post(slack)
    await post(slack)
    await refused(slack)
    slack_clock.advance(1)
    assert await post(slack)


async def test_the_limit_is_per_channel(slack: AsyncWebClient) -> None:
    """A channel at its limit does not slow another channel."""
    await post(slack)
    await post(slack)
    await refused(slack)
    assert await post(slack, "C0ONCALL")


async def test_a_rate_limited_post_is_not_stored(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A 429 means Slack did not take the message."""
    for _ in range(2):
        await post(slack)
    await refused(slack)
    assert len(emulator.messages("C0REVIEW")) == 2


async def test_the_workspace_cap_spans_channels() -> None:
    """workspace_rate limits message writes across all channels together."""
    async with running_emulator(
        clock=ManualClock(0.0), post_rate=None, workspace_rate=1.0, workspace_burst=2
    ) as emu:
        slack = web_client(emu)
        await post(slack, "C0REVIEW")
        await post(slack, "C0ONCALL")
        error = await refused(slack, "C0GENERAL")
    assert error.response.status_code == 429


async def test_random_429s_follow_their_probability() -> None:
    """random_429=1.0 rate-limits every call, with Retry-After 1."""
    async with running_emulator(random_429=1.0, seed=7) as emu:
        with pytest.raises(SlackApiError) as caught:
            await web_client(emu).auth_test()
    assert (caught.value.response.status_code, caught.value.response.headers["Retry-After"]) == (
        429,
        "1",
    )


async def test_injected_http_500_fails_the_call_without_storing(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """An http_500 fault answers HTTP 500 and the message is not stored."""
    emulator.inject("chat.postMessage", "http_500")
    error = await refused(slack)
    assert error.response.status_code == 500
    assert emulator.messages("C0REVIEW") == []


async def test_injected_fault_fires_only_the_given_times(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A fault armed for two calls fails two and lets the third through."""
    emulator.inject("chat.postMessage", "http_503", times=2)
    statuses = [(await refused(slack)).response.status_code for _ in range(2)]
    assert statuses == [503, 503]
    assert await post(slack)


async def test_injected_slack_error_code_answers_it(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A fault named after a Slack error answers HTTP 200 with that error."""
    emulator.inject("chat.postMessage", "channel_not_found")
    error = await refused(slack)
    assert (error.response.status_code, error.response["error"]) == (200, "channel_not_found")


async def test_injected_ratelimited_fault_sends_its_retry_after(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A ratelimited fault answers 429 with the Retry-After it was armed with."""
    emulator.inject("chat.postMessage", "ratelimited", retry_after=30)
    error = await refused(slack)
    assert (error.response.status_code, error.response.headers["Retry-After"]) == (429, "30")


async def test_injected_timeout_leaves_nothing_stored(emulator: SlackEmulator) -> None:
    """A timeout fault holds the answer past the client's timeout; nothing is posted."""
    emulator.inject("chat.postMessage", "timeout")
    with pytest.raises(TimeoutError):
        await post(web_client(emulator, timeout=0.05))
    assert emulator.messages("C0REVIEW") == []


async def test_timeout_after_accept_stores_the_message(emulator: SlackEmulator) -> None:
    """timeout_after_accept stores the message although the client never hears back."""
    emulator.inject("chat.postMessage", "timeout_after_accept")
    with pytest.raises(TimeoutError):
        await post(web_client(emulator, timeout=0.05))
    assert len(emulator.messages("C0REVIEW")) == 1


async def test_http_500_after_accept_stores_the_message(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """http_500_after_accept answers 500 although the message was stored."""
    emulator.inject("chat.postMessage", "http_500_after_accept")
    error = await refused(slack)
    assert error.response.status_code == 500
    assert len(emulator.messages("C0REVIEW")) == 1


async def test_after_accept_fault_is_recorded_on_the_call(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """The call record names the fault and the status the client saw."""
    emulator.inject("chat.postMessage", "http_500_after_accept")
    await refused(slack)
    [call] = emulator.calls_to("chat.postMessage")
    assert (call.fault, call.status) == ("http_500_after_accept", 500)


async def test_wildcard_fault_hits_any_method(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A fault armed for "*" fails whichever method comes next."""
    emulator.inject("*", "http_503")
    with pytest.raises(SlackApiError) as caught:
        await slack.auth_test()
    assert caught.value.response.status_code == 503


async def test_down_mode_answers_503_until_switched_off(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """While down every call answers 503; switched back up, calls succeed."""
    emulator.down = True
    with pytest.raises(SlackApiError) as caught:
        await slack.auth_test()
    emulator.down = False
    assert caught.value.response.status_code == 503
    assert (await slack.auth_test())["ok"] is True


async def test_slow_fault_answers_after_release(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A slow fault holds the answer, then executes the call normally."""
    emulator.inject("auth.test", "slow", hold=0.01)
    assert (await slack.auth_test())["ok"] is True


async def test_unknown_fault_name_is_refused(emulator: SlackEmulator) -> None:
    """A fault name that is not Slack-shaped raises ValueError at once."""
    with pytest.raises(ValueError, match="fault"):
        emulator.inject("chat.postMessage", "Not A Fault")


@pytest.mark.parametrize(
    ("fault", "status"), [("http_500_text", 500), ("http_503_text", 503), ("ratelimited_text", 429)]
)
async def test_a_text_fault_answers_its_status_with_a_plain_text_body(
    emulator: SlackEmulator, fault: str, status: int
) -> None:
    """A fault with the ``_text`` suffix answers its status with a text/plain body, as a proxy."""
    emulator.inject("chat.postMessage", fault, retry_after=7)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emulator.api_url}chat.postMessage",
            data={"channel": "C0REVIEW", "text": "hi"},
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        ) as response,
    ):
        answer = (response.status, response.content_type, await response.text())
        retry_after = response.headers.get("Retry-After")
    assert answer == (status, "text/plain", TEXT_ANSWER)
    assert retry_after == ("7" if status == 429 else None)
    assert emulator.messages("C0REVIEW") == []
