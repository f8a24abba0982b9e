"""The App Home tab end to end: ``app_home_opened`` signed as Slack sends it, the tab
published with ``views.publish`` to the strict emulator, and its buttons answered by the
review message's handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from handlers.ids import ActionId
from sandbox.blockkit_limits import check_view
from sandbox.emulator import SlackEmulator
from sandbox.testing import running_emulator, web_client
from tests.command_harness import text_of
from tests.conftest import Database
from tests.slack_harness import REVIEW_CHANNEL, Slack, eventually, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


@pytest.fixture
async def emulator_for_views(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=clock) as emulator:
        yield emulator


async def home_of(slack: Slack, user: str, *, publishes: int = 1) -> dict[str, Any]:
    """``user``'s Home tab once the bot has published it ``publishes`` times."""

    async def probe() -> dict[str, Any] | None:
        done = [
            call
            for call in slack.emulator.calls_to("views.publish")
            if call.body.get("user_id") == user and call.ok
        ]
        if len(done) < publishes:
            return None
        return slack.emulator.workspace.home_tabs.get(user)

    return await eventually(probe, what=f"Home tab #{publishes} of {user}")


async def open_home(slack: Slack, user: str, *, publishes: int = 1) -> dict[str, Any]:
    sent = await slack.driver.open_home(user=user)
    assert sent.status == 200, sent.text
    return await home_of(slack, user, publishes=publishes)


def buttons(home: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (element["action_id"], element.get("value", ""))
        for block in home["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


async def test_opening_home_lists_pending_reviews_oldest_first_with_the_buttons(
    slack: Slack, clock: ManualClock
) -> None:
    """A reviewer's Home tab lists the open handoffs oldest first, each with Approve, Edit
    and Reject carrying its ID, and the workflows they are on call for."""
    _, first = await slack.open_review()
    clock.advance(minutes=5)
    _, second = await slack.open_review()

    home = await open_home(slack, "U0ALICE")

    assert home["type"] == "home"
    assert check_view(home) == []
    assert buttons(home) == [
        (ActionId.HANDOFF_APPROVE.value, first),
        (ActionId.HANDOFF_EDIT.value, first),
        (ActionId.HANDOFF_REJECT.value, first),
        (ActionId.HANDOFF_APPROVE.value, second),
        (ActionId.HANDOFF_EDIT.value, second),
        (ActionId.HANDOFF_REJECT.value, second),
    ]
    shown = text_of(home)
    assert shown.index(first) < shown.index(second)
    assert "You are on call for:\n• `ticket-triage`, alerts in <#C0ONCALL>" in shown
    assert "<!date^" in shown  # times in the reader's zone


async def test_someone_who_reviews_nothing_sees_an_empty_home(slack: Slack) -> None:
    """An admin who neither reviews nor is on call sees no reviews and no on-call duty."""
    await slack.open_review()

    home = await open_home(slack, "U0OWNER")

    assert buttons(home) == []
    assert "Nothing is waiting for you." in text_of(home)
    assert "You are not on call for any workflow." in text_of(home)


async def test_approve_from_home_decides_updates_the_review_message_and_republishes(
    slack: Slack,
) -> None:
    """Approve clicked in the Home tab records the decision, the review message in its
    channel is updated as usual, and the tab is published again without the review."""
    _, handoff_id = await slack.open_review()
    await slack.deliver()
    await open_home(slack, "U0BOB")

    sent = await slack.driver.click_home(
        action_id=ActionId.HANDOFF_APPROVE.value, user="U0BOB", value=handoff_id
    )
    assert sent.status == 200, sent.text

    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.reviewer) == ("approved", "U0BOB")
    home = await home_of(slack, "U0BOB", publishes=2)
    assert buttons(home) == []
    await slack.deliver()
    message = slack.posted(handoff_id)
    assert message.updates == 1
    assert "Approved by <@U0BOB>" in str(message.blocks)
    assert message.channel == REVIEW_CHANNEL


async def test_reject_from_home_opens_the_reject_modal(slack: Slack) -> None:
    """Reject in the Home tab opens the same modal as in the channel (a view's trigger_id)."""
    _, handoff_id = await slack.open_review()
    await open_home(slack, "U0ALICE")

    await slack.driver.click_home(
        action_id=ActionId.HANDOFF_REJECT.value, user="U0ALICE", value=handoff_id
    )

    modal = await slack.opened_view("U0ALICE")
    assert modal.view["type"] == "modal"
    assert handoff_id in str(modal.view)


async def test_a_refused_home_click_is_shown_at_the_top_of_the_tab(slack: Slack) -> None:
    """A click on a review someone decided meanwhile is refused, and since a Home tab has
    no channel for an ephemeral answer, the republished tab says why; nothing is recorded
    twice."""
    _, handoff_id = await slack.open_review()
    await open_home(slack, "U0BOB")
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE")
    await slack.decided(handoff_id)

    await slack.driver.click_home(
        action_id=ActionId.HANDOFF_APPROVE.value, user="U0BOB", value=handoff_id
    )

    home = await home_of(slack, "U0BOB", publishes=2)
    top = home["blocks"][0]["text"]["text"]
    assert top == ":warning: Already approved by <@U0ALICE> at 09:00 UTC; nothing was changed"
    assert await slack.decision_count() == 1


async def test_views_publish_is_refused_when_the_app_has_no_home_tab(
    emulator_for_views: SlackEmulator,
) -> None:
    """Without features.app_home.home_tab_enabled in the manifest, Slack answers not_enabled."""
    emulator_for_views.workspace.home_tab_enabled = False
    with pytest.raises(SlackApiError) as refused:
        await web_client(emulator_for_views).views_publish(
            user_id="U0ALICE", view={"type": "home", "blocks": []}
        )
    assert refused.value.response["error"] == "not_enabled"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"view": {"type": "home", "blocks": []}}, "invalid_arguments"),
        ({"user_id": "U0NOBODY", "view": {"type": "home", "blocks": []}}, "user_not_found"),
        ({"user_id": "U0ALICE", "view": {"type": "modal", "blocks": []}}, "invalid_arguments"),
        (
            {
                "user_id": "U0ALICE",
                "view": {"type": "home", "blocks": [{"type": "divider"}] * 101},
            },
            "invalid_arguments",
        ),
        (
            {
                "user_id": "U0ALICE",
                "view": {"type": "home", "blocks": [], "private_metadata": "x" * 260_000},
            },
            "view_too_large",
        ),
    ],
)
async def test_views_publish_is_as_strict_as_slack(
    emulator_for_views: SlackEmulator, args: dict[str, Any], error: str
) -> None:
    """Missing user_id, unknown user, a non-home view, 101 blocks or 250 KB are refused."""
    with pytest.raises(SlackApiError) as refused:
        await web_client(emulator_for_views).api_call("views.publish", json=args)
    assert refused.value.response["error"] == error


async def test_an_app_without_a_home_tab_logs_the_fix_once_opened(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    """If Slack answers not_enabled, the log says how to turn the tab on; nobody gets an error."""
    slack.emulator.workspace.home_tab_enabled = False

    sent = await slack.driver.open_home(user="U0ALICE")
    assert sent.status == 200

    async def logged() -> bool | None:
        return "turn on the Home tab" in caplog.text or None

    await eventually(logged, what="the not_enabled warning")
    assert slack.emulator.ephemerals == []
