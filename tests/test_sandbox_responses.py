"""response_urls served by the emulator behave as Slack's, seen through slack_sdk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.webhook.async_client import AsyncWebhookClient

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


async def original(emulator: SlackEmulator) -> str:
    answer = await web_client(emulator).chat_postMessage(channel="C0REVIEW", text="pending")
    return str(answer["ts"])


def webhook(emulator: SlackEmulator, message_ts: str | None = None) -> AsyncWebhookClient:
    url = emulator.issue_response_url(channel="C0REVIEW", user="U0BOB", message_ts=message_ts)
    return AsyncWebhookClient(url)


async def test_a_plain_response_is_ephemeral_to_the_clicker(emulator: SlackEmulator) -> None:
    """Without response_type, the response is an ephemeral message for the person."""
    await webhook(emulator).send(text="Only you can see this")
    assert [(e.user, e.text, e.source) for e in emulator.ephemerals] == [
        ("U0BOB", "Only you can see this", "response_url")
    ]


async def test_an_in_channel_response_posts_a_message(emulator: SlackEmulator) -> None:
    """response_type=in_channel posts a new message in the channel."""
    await webhook(emulator).send(text="Paused ticket-triage", response_type="in_channel")
    assert [m.text for m in emulator.messages("C0REVIEW")] == ["Paused ticket-triage"]


async def test_replace_original_rewrites_the_message(emulator: SlackEmulator) -> None:
    """replace_original=true replaces the original message's text and blocks."""
    ts = await original(emulator)
    await webhook(emulator, ts).send(text="Approved", replace_original=True)
    assert emulator.message("C0REVIEW", ts).text == "Approved"


async def test_delete_original_removes_the_message(emulator: SlackEmulator) -> None:
    """delete_original=true deletes the original message."""
    ts = await original(emulator)
    await webhook(emulator, ts).send_dict({"delete_original": True})
    assert emulator.messages("C0REVIEW") == []


async def test_each_post_is_recorded_with_its_effect(emulator: SlackEmulator) -> None:
    """emulator.responses keeps the body and what it did."""
    ts = await original(emulator)
    await webhook(emulator, ts).send(text="Approved", replace_original=True)
    [post] = emulator.responses
    assert (post.body["text"], post.effect, post.status) == ("Approved", "replaced", 200)


async def test_an_unknown_response_url_is_404(emulator: SlackEmulator) -> None:
    """A response_url the emulator never issued answers 404."""
    answer = await AsyncWebhookClient(f"{emulator.url}/response/nope").send(text="x")
    assert answer.status_code == 404


async def test_a_response_url_allows_five_uses(emulator: SlackEmulator) -> None:
    """The sixth post to one response_url answers 404 used_url."""
    client = webhook(emulator)
    statuses = [(await client.send(text=f"#{i}")).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert emulator.responses[-1].body["text"] == "#5"


async def test_a_response_url_expires_after_thirty_minutes(
    emulator: SlackEmulator, slack_clock: ManualClock
) -> None:
    """After 30 minutes of emulator time the response_url answers 404."""
    client = webhook(emulator)
    slack_clock.advance(minutes=31)
    assert (await client.send(text="late")).status_code == 404


async def test_invalid_blocks_in_a_response_are_400(emulator: SlackEmulator) -> None:
    """A response whose blocks break a limit is refused with 400 and invalid_blocks."""
    block = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    answer = await webhook(emulator).send(text="x", blocks=[block])
    assert answer.status_code == 400
    assert "invalid_blocks" in answer.body


async def test_a_fault_can_hit_response_urls(emulator: SlackEmulator) -> None:
    """inject("response_url", "http_500") fails the next response_url post."""
    emulator.inject("response_url", "http_500")
    answer = await webhook(emulator).send(text="x")
    assert answer.status_code == 500
    assert emulator.ephemerals == []
