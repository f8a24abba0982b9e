"""The emulator is as strict as Slack: scopes, membership, DMs and archived channels."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from sandbox.models import Channel
from sandbox.scopes import manifest_scopes
from sandbox.testing import running_emulator, web_client

UNJOINED = Channel("C0UNJOINED", "unjoined", members={"U0ALICE"})


async def slack_error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    answer: dict[str, Any] = caught.value.response.data
    return answer


async def test_the_token_has_the_manifests_scopes_by_default() -> None:
    """A strict emulator grants exactly the scopes manifest.yml installs."""
    async with running_emulator() as emu:
        assert emu.workspace.scopes == manifest_scopes()


async def test_a_call_without_its_scope_is_missing_scope_with_needed_and_provided() -> None:
    """Slack's answer names the scope needed and the scopes the token has."""
    async with running_emulator(scopes=["commands"]) as emu:
        answer = await slack_error(web_client(emu).chat_postMessage(channel="C0REVIEW", text="x"))
    assert answer == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": "commands",
    }


async def test_history_needs_the_scope_of_the_conversations_kind() -> None:
    """A private channel's history needs groups:history even with channels:history."""
    secret = Channel("C0SECRET", "secret", is_private=True)
    async with running_emulator(channels=[secret], scopes=["channels:history"]) as emu:
        answer = await slack_error(web_client(emu).conversations_history(channel="C0SECRET"))
    assert answer["needed"] == "groups:history"


async def test_posting_to_an_unjoined_public_channel_needs_chat_write_public() -> None:
    """Without chat:write.public a non-member's post is not_in_channel."""
    async with running_emulator(channels=[UNJOINED], scopes=["chat:write"]) as emu:
        answer = await slack_error(web_client(emu).chat_postMessage(channel=UNJOINED.id, text="x"))
    assert answer["error"] == "not_in_channel"


async def test_an_unjoined_channel_is_unreadable_until_the_bot_joins() -> None:
    """conversations.join makes the bot a member, and history then answers."""
    async with running_emulator(channels=[UNJOINED]) as emu:
        slack = web_client(emu)
        answer = await slack_error(slack.conversations_history(channel=UNJOINED.id))
        await slack.conversations_join(channel=UNJOINED.id)
        history = await slack.conversations_history(channel=UNJOINED.id)
    assert answer["error"] == "not_in_channel"
    assert history["messages"] == []


async def test_a_user_id_is_a_dm_for_post_message_but_not_for_history() -> None:
    """chat.postMessage opens the DM with a user ID; conversations.history of it is not found."""
    async with running_emulator() as emu:
        slack = web_client(emu)
        posted = await slack.chat_postMessage(channel="U0ALICE", text="hi")
        answer = await slack_error(slack.conversations_history(channel="U0ALICE"))
        opened = await slack.conversations_open(users="U0ALICE")
    assert posted["channel"] == opened["channel"]["id"] == "D0ALICE"
    assert answer["error"] == "channel_not_found"


async def test_an_archived_channel_refuses_posts() -> None:
    """Posting to an archived channel answers is_archived."""
    async with running_emulator() as emu:
        emu.archive("C0REVIEW")
        answer = await slack_error(web_client(emu).chat_postMessage(channel="C0REVIEW", text="x"))
    assert answer["error"] == "is_archived"


async def test_a_lenient_emulator_grants_every_scope() -> None:
    """strict=False answers every method whatever the manifest says."""
    async with running_emulator(strict=False) as emu:
        answer = await web_client(emu).users_info(user="U0ALICE")
    assert answer["user"]["id"] == "U0ALICE"
