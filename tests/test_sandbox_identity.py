"""The emulator tells a token its scopes and knows deactivated people, as Slack does."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from sandbox.testing import running_emulator, web_client


async def test_every_answer_names_the_tokens_scopes() -> None:
    """``X-OAuth-Scopes`` lists the scopes granted, on a success as on a refusal."""
    async with running_emulator(scopes=["commands", "chat:write"]) as emu:
        client = web_client(emu)
        answer = await client.auth_test()
        with pytest.raises(SlackApiError) as refused:
            await client.usergroups_users_list(usergroup="S0REVIEWERS")
    assert answer.headers["X-OAuth-Scopes"] == "chat:write,commands"
    assert refused.value.response.headers["X-OAuth-Scopes"] == "chat:write,commands"


async def test_an_unknown_token_is_told_no_scopes() -> None:
    """Only an accepted token learns what it was granted."""
    async with running_emulator() as emu:
        with pytest.raises(SlackApiError) as refused:
            await web_client(emu, token="xoxb-unknown").auth_test()
    assert "X-OAuth-Scopes" not in refused.value.response.headers


async def test_a_dm_with_a_deactivated_person_is_user_disabled() -> None:
    """conversations.open refuses a deactivated user; users.info shows them as deleted."""
    async with running_emulator(strict=False) as emu:
        emu.deactivate("U0BOB")
        client = web_client(emu)
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_open(users="U0BOB")
        info = await client.users_info(user="U0BOB")
    assert refused.value.response.data == {"ok": False, "error": "user_disabled"}
    assert info["user"]["deleted"] is True


async def test_a_deactivated_person_leaves_their_usergroups() -> None:
    """usergroups.users.list no longer lists someone deactivated."""
    async with running_emulator(strict=False) as emu:
        emu.deactivate("U0BOB")
        answer = await web_client(emu).usergroups_users_list(usergroup="S0REVIEWERS")
    assert answer["users"] == ["U0ALICE"]
