"""Modals in the emulator: trigger_ids are fresh and single-use, views update by id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.clock import ManualClock
from sandbox.emulator import SlackEmulator
from sandbox.testing import running_emulator, web_client


def modal(title: str = "Edit the draft", **fields: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "handoff-edit",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Draft"}}],
        **fields,
    }


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


async def open_error(slack: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> str:
    with pytest.raises(SlackApiError) as caught:
        await slack.views_open(trigger_id=trigger_id, view=view)
    return str(caught.value.response["error"])


async def test_views_open_with_a_fresh_trigger_returns_the_view(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A trigger issued to a person opens a modal with an id, recorded for that person."""
    answer = await slack.views_open(trigger_id=emulator.issue_trigger("U0ALICE"), view=modal())
    [view] = emulator.views
    assert answer["view"]["id"] == view.id
    assert (view.user, view.callback_id) == ("U0ALICE", "handoff-edit")


async def test_a_made_up_trigger_is_invalid(slack: AsyncWebClient) -> None:
    """A trigger_id Slack never issued answers invalid_trigger_id."""
    assert await open_error(slack, "12345.98765.abcdef", modal()) == "invalid_trigger_id"


async def test_a_trigger_older_than_three_seconds_is_expired(
    slack: AsyncWebClient, emulator: SlackEmulator, slack_clock: ManualClock
) -> None:
    """After 3 s of emulator time the trigger answers expired_trigger_id."""
    trigger_id = emulator.issue_trigger("U0ALICE")
    slack_clock.advance(3.5)
    assert await open_error(slack, trigger_id, modal()) == "expired_trigger_id"


async def test_a_trigger_is_single_use(slack: AsyncWebClient, emulator: SlackEmulator) -> None:
    """A second views.open with the same trigger answers exchanged_trigger_id."""
    trigger_id = emulator.issue_trigger("U0ALICE")
    await slack.views_open(trigger_id=trigger_id, view=modal())
    assert await open_error(slack, trigger_id, modal()) == "exchanged_trigger_id"


async def test_an_overlong_modal_title_is_invalid_arguments(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """A 25-character title answers invalid_arguments naming /view/title/text, as Slack does."""
    with pytest.raises(SlackApiError) as caught:
        await slack.views_open(
            trigger_id=emulator.issue_trigger("U0ALICE"), view=modal(title="x" * 25)
        )
    assert caught.value.response["error"] == "invalid_arguments"
    [message] = caught.value.response["response_metadata"]["messages"]
    assert message.endswith("[json-pointer:/view/title/text]")


async def test_views_update_replaces_the_view_by_id(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """views.update by view_id changes the stored view and its hash."""
    opened = await slack.views_open(trigger_id=emulator.issue_trigger("U0ALICE"), view=modal())
    view_id = opened["view"]["id"]
    await slack.views_update(view_id=view_id, view=modal(title="Saved"))
    stored = emulator.view(view_id)
    assert stored.view["title"]["text"] == "Saved"
    assert stored.hash != opened["view"]["hash"]


async def test_views_update_with_a_stale_hash_is_a_conflict(
    slack: AsyncWebClient, emulator: SlackEmulator
) -> None:
    """An update carrying an outdated hash answers hash_conflict."""
    opened = await slack.views_open(trigger_id=emulator.issue_trigger("U0ALICE"), view=modal())
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]
    await slack.views_update(view_id=view_id, view=modal(title="Saved"))
    with pytest.raises(SlackApiError) as caught:
        await slack.views_update(view_id=view_id, hash=first_hash, view=modal(title="Again"))
    assert caught.value.response["error"] == "hash_conflict"


async def test_views_update_of_an_unknown_view_is_not_found(slack: AsyncWebClient) -> None:
    """Updating a view that was never opened answers not_found."""
    with pytest.raises(SlackApiError) as caught:
        await slack.views_update(view_id="V0NOTHERE", view=modal())
    assert caught.value.response["error"] == "not_found"
