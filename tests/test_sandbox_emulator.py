"""The emulator speaks Slack's Web API as the real slack_sdk client expects it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.clock import ManualClock
from sandbox.emulator import SlackEmulator
from sandbox.models import Channel
from sandbox.testing import running_emulator, web_client

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "A draft for review"}}
META = {"event_type": "handoff_opened", "event_payload": {"handoff_id": "h-1"}}


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


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_auth_test_answers_the_bot_identity(slack: AsyncWebClient) -> None:
    """auth.test names the seeded team, bot user and bot id."""
    answer = await slack.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T0TEAM", "U0BOT", "B0BOT")


async def test_post_message_answers_channel_ts_and_message(slack: AsyncWebClient) -> None:
    """chat.postMessage answers the channel, a ts and the message as stored."""
    answer = await slack.chat_postMessage(channel="C0REVIEW", text="hello")
    assert answer["channel"] == "C0REVIEW"
    assert answer["message"]["ts"] == answer["ts"]
    assert answer["message"]["text"] == "hello"


async def test_post_message_ts_is_unique_and_increasing(slack: AsyncWebClient) -> None:
    """Two posts at the same clock instant still get distinct, increasing timestamps."""
    first = await slack.chat_postMessage(channel="C0REVIEW", text="one")
    second = await slack.chat_postMessage(channel="C0REVIEW", text="two")
    assert float(second["ts"]) > float(first["ts"])


async def test_post_message_stores_blocks_thread_and_metadata(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """The stored message keeps the blocks, thread_ts and metadata that were posted."""
    parent = await slack.chat_postMessage(channel="C0REVIEW", text="parent")
    await slack.chat_postMessage(
        channel="C0REVIEW", text="reply", blocks=[SECTION], thread_ts=parent["ts"], metadata=META
    )
    stored = emulator.messages("C0REVIEW")[-1]
    assert (stored.blocks, stored.thread_ts, stored.metadata) == ([SECTION], parent["ts"], META)


async def test_update_changes_the_stored_message_in_place(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """chat.update replaces the text and blocks of the same message."""
    posted = await slack.chat_postMessage(channel="C0REVIEW", text="pending", blocks=[SECTION])
    await slack.chat_update(channel="C0REVIEW", ts=posted["ts"], text="approved", blocks=[])
    [stored] = emulator.messages("C0REVIEW")
    assert (stored.text, stored.blocks, stored.updates) == ("approved", [], 1)


async def test_update_of_an_unknown_ts_is_message_not_found(slack: AsyncWebClient) -> None:
    """chat.update on a ts that was never posted answers message_not_found."""
    error = await slack_error(slack.chat_update(channel="C0REVIEW", ts="1.000001", text="x"))
    assert error.response["error"] == "message_not_found"


async def test_update_of_a_persons_message_is_refused(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """The bot cannot edit what a person wrote: cant_update_message."""
    seeded = emulator.post_as_user("C0REVIEW", "U0ALICE", "my words")
    error = await slack_error(slack.chat_update(channel="C0REVIEW", ts=seeded.ts, text="x"))
    assert error.response["error"] == "cant_update_message"


async def test_history_is_newest_first(slack: AsyncWebClient) -> None:
    """conversations.history lists the newest message first."""
    for text in ("one", "two", "three"):
        await slack.chat_postMessage(channel="C0REVIEW", text=text)
    history = await slack.conversations_history(channel="C0REVIEW")
    assert [m["text"] for m in history["messages"]] == ["three", "two", "one"]


async def test_history_includes_metadata_only_when_asked(slack: AsyncWebClient) -> None:
    """Metadata appears in history with include_all_metadata=true and not without it."""
    await slack.chat_postMessage(channel="C0REVIEW", text="x", metadata=META)
    plain = await slack.conversations_history(channel="C0REVIEW")
    full = await slack.conversations_history(channel="C0REVIEW", include_all_metadata=True)
    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == META


async def test_history_pages_with_limit_and_cursor(slack: AsyncWebClient) -> None:
    """limit cuts a page and next_cursor fetches the older rest."""
    for text in ("one", "two", "three"):
        await slack.chat_postMessage(channel="C0REVIEW", text=text)
    first = await slack.conversations_history(channel="C0REVIEW", limit=2)
    cursor = first["response_metadata"]["next_cursor"]
    rest = await slack.conversations_history(channel="C0REVIEW", limit=2, cursor=cursor)
    assert (first["has_more"], rest["has_more"]) == (True, False)
    assert [m["text"] for m in rest["messages"]] == ["one"]


async def test_history_honours_oldest_and_latest(slack: AsyncWebClient) -> None:
    """oldest and latest are exclusive bounds, as in Slack."""
    ts = [(await slack.chat_postMessage(channel="C0REVIEW", text=t))["ts"] for t in "abcd"]
    window = await slack.conversations_history(channel="C0REVIEW", oldest=ts[0], latest=ts[3])
    assert [m["text"] for m in window["messages"]] == ["c", "b"]


async def test_form_encoded_call_decodes_blocks_and_metadata(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """In a form body, blocks and metadata arrive as JSON strings and are decoded."""
    data = {
        "channel": "C0REVIEW",
        "text": "x",
        "blocks": json.dumps([SECTION]),
        "metadata": json.dumps(META),
    }
    await slack.api_call("chat.postMessage", data=data)
    call = emulator.calls_to("chat.postMessage")[0]
    assert (call.body["blocks"], call.body["metadata"]) == ([SECTION], META)


async def test_token_in_form_body_is_accepted(emulator: SlackEmulator) -> None:
    """A token sent as a form field, not a header, authenticates the call."""
    anonymous = AsyncWebClient(base_url=emulator.api_url, retry_handlers=[])
    answer = await anonymous.api_call("auth.test", data={"token": "xoxb-test-token"})
    assert answer["ok"] is True


async def test_wrong_token_is_invalid_auth(emulator: SlackEmulator) -> None:
    """A token the workspace never issued answers invalid_auth."""
    error = await slack_error(web_client(emulator, token="xoxb-wrong").auth_test())
    assert error.response["error"] == "invalid_auth"


async def test_missing_token_is_not_authed(emulator: SlackEmulator) -> None:
    """A call without any token answers not_authed."""
    anonymous = AsyncWebClient(base_url=emulator.api_url, retry_handlers=[])
    error = await slack_error(anonymous.auth_test())
    assert error.response["error"] == "not_authed"


async def test_unknown_method_is_unknown_method(slack: AsyncWebClient) -> None:
    """A method the emulator does not implement answers unknown_method."""
    error = await slack_error(slack.api_call("chat.teleport"))
    assert error.response["error"] == "unknown_method"


async def test_unknown_channel_is_channel_not_found(slack: AsyncWebClient) -> None:
    """Posting to a channel that does not exist answers channel_not_found."""
    error = await slack_error(slack.chat_postMessage(channel="C0NOWHERE", text="x"))
    assert error.response["error"] == "channel_not_found"


async def test_private_channel_without_the_bot_is_not_in_channel(slack: AsyncWebClient) -> None:
    """Posting to a private channel the bot is not in answers not_in_channel."""
    error = await slack_error(slack.chat_postMessage(channel="C0SECRET", text="x"))
    assert error.response["error"] == "not_in_channel"


async def test_not_member_error_is_configurable() -> None:
    """not_member_error="channel_not_found" mimics Slack hiding private channels."""
    secret = Channel("C0HIDDEN", "hidden", members={"U0ALICE"}, is_private=True)
    async with running_emulator(channels=[secret], not_member_error="channel_not_found") as emu:
        error = await slack_error(web_client(emu).chat_postMessage(channel="C0HIDDEN", text="x"))
    assert error.response["error"] == "channel_not_found"


async def test_oversized_section_is_invalid_blocks(slack: AsyncWebClient) -> None:
    """A section text over 3000 characters answers invalid_blocks naming the field."""
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    error = await slack_error(slack.chat_postMessage(channel="C0REVIEW", text="x", blocks=[block]))
    assert error.response["error"] == "invalid_blocks"
    assert error.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


async def test_invalid_blocks_are_not_stored(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A refused message leaves the channel empty."""
    block = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    await slack_error(slack.chat_postMessage(channel="C0REVIEW", text="x", blocks=[block]))
    assert emulator.messages("C0REVIEW") == []


async def test_neither_text_nor_blocks_is_no_text(slack: AsyncWebClient) -> None:
    """A message with nothing to show answers no_text."""
    # Through api_call: chat_postMessage itself warns before sending such a message.
    error = await slack_error(slack.api_call("chat.postMessage", json={"channel": "C0REVIEW"}))
    assert error.response["error"] == "no_text"


async def test_text_over_40000_characters_is_msg_too_long(slack: AsyncWebClient) -> None:
    """A message text over 40,000 characters answers msg_too_long."""
    error = await slack_error(slack.chat_postMessage(channel="C0REVIEW", text="x" * 40_001))
    assert error.response["error"] == "msg_too_long"


async def test_ephemeral_is_recorded_for_its_user(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """chat.postEphemeral records the message for one person, not in the channel."""
    await slack.chat_postEphemeral(channel="C0REVIEW", user="U0BOB", text="only you")
    assert [(e.user, e.text) for e in emulator.ephemerals] == [("U0BOB", "only you")]
    assert emulator.messages("C0REVIEW") == []


async def test_permalink_points_at_the_message(slack: AsyncWebClient) -> None:
    """chat.getPermalink answers a workspace archive link ending in the ts."""
    posted = await slack.chat_postMessage(channel="C0REVIEW", text="x")
    link = await slack.chat_getPermalink(channel="C0REVIEW", message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/C0REVIEW/p{posted['ts'].replace('.', '')}")


async def test_conversations_info_describes_the_channel() -> None:
    """conversations.info answers the seeded name and the bot's membership (channels:read)."""
    async with running_emulator(scopes=["channels:read"]) as emu:
        info = await web_client(emu).conversations_info(channel="C0REVIEW")
    assert (info["channel"]["name"], info["channel"]["is_member"]) == ("review", True)


async def test_users_info_answers_name_and_timezone() -> None:
    """users.info answers the seeded name, real name and time zone (to an app with users:read)."""
    async with running_emulator(scopes=["users:read"]) as emu:
        user = (await web_client(emu).users_info(user="U0BOB"))["user"]
    assert (user["name"], user["real_name"], user["tz"]) == ("bob", "Bob Brown", "America/New_York")


async def test_usergroup_members_are_listed(slack: AsyncWebClient) -> None:
    """usergroups.users.list answers the seeded members of an S-group."""
    answer = await slack.usergroups_users_list(usergroup="S0REVIEWERS")
    assert answer["users"] == ["U0ALICE", "U0BOB"]


async def test_conversations_open_gives_a_dm_the_bot_can_post_to(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """conversations.open answers a D-channel and a post there is stored under it."""
    dm = (await slack.conversations_open(users="U0ALICE"))["channel"]["id"]
    await slack.chat_postMessage(channel=dm, text="psst")
    assert dm.startswith("D")
    assert [m.text for m in emulator.messages(dm)] == ["psst"]


async def test_calls_record_method_body_and_token(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """Every call is recorded with its method, decoded body, token and answer."""
    await slack.chat_postMessage(channel="C0REVIEW", text="x", blocks=[SECTION])
    [call] = emulator.calls
    assert (call.method, call.body["blocks"], call.token) == (
        "chat.postMessage",
        [SECTION],
        "xoxb-test-token",
    )
    assert (call.status, call.ok, call.error) == (200, True, None)


async def test_reset_forgets_messages_and_calls(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """reset() empties channels and the call log."""
    await slack.chat_postMessage(channel="C0REVIEW", text="x")
    emulator.reset()
    assert (emulator.messages("C0REVIEW"), emulator.calls) == ([], [])
