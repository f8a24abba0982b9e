"""Fuzzed slash commands, clicks and modal submissions, signed as Slack signs them, on both
stores: never a 5xx, never an ERROR line (in the answer or the work after the ack), and a
refused request writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.ids import ActionId, BlockId, CallbackId, Command, InputId
from tests.conftest import Database
from tests.fuzz_checks import Watch
from tests.fuzz_strategies import FUZZ, JSON_VALUE, LONG_TEXT, TEXT
from tests.slack_harness import REVIEW_CHANNEL, Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

USER = st.sampled_from(["U0ALICE", "U0BOB", "U0OWNER", "U0STRANGER"])
CHANNEL = st.sampled_from([REVIEW_CHANNEL, "C0ONCALL", "D0DIRECT", "C0NOPE"])
WORD = st.sampled_from(
    ["ticket-triage", "invoice-extraction", "all", "*", "parked", "status", "digest", "help"]
)
COMMAND_TEXT = st.one_of(TEXT, LONG_TEXT, st.lists(st.one_of(WORD, TEXT), max_size=4).map(" ".join))
#: The button a click reports, and a stray one now and then.
ACTION_ID = st.one_of(st.sampled_from(list(ActionId)), TEXT)
CALLBACK_ID = st.one_of(st.sampled_from(list(CallbackId)), TEXT)
#: A modal's input, as the state Slack reports: a text, a selection, or any JSON.
INPUT_STATE = st.one_of(
    st.builds(lambda value: {"type": "plain_text_input", "value": value}, st.none() | LONG_TEXT),
    st.builds(
        lambda value: {"type": "static_select", "selected_option": {"value": value}},
        st.one_of(st.sampled_from(["tone", "facts", "other"]), TEXT),
    ),
    st.dictionaries(TEXT, JSON_VALUE, max_size=2),
)
STATE_VALUES = st.dictionaries(
    st.one_of(st.sampled_from(list(BlockId)), TEXT),
    st.dictionaries(st.one_of(st.sampled_from(list(InputId)), TEXT), INPUT_STATE, max_size=2),
    max_size=3,
)
#: A fake message to click on, so any element can be clicked.
MESSAGE = {"type": "message", "ts": "1767600000.000100", "text": "x", "blocks": []}


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


@pytest.fixture
async def handoff_id(slack: Slack) -> str:
    """A pending review, so some clicks and submissions name a real handoff."""
    _, opened = await slack.open_review()
    return opened


async def settle() -> None:
    """Wait for the work bolt runs after each ack, where errors are logged."""
    for _ in range(100):
        running = [
            task
            for task in asyncio.all_tasks()
            if "run_ack_function_asynchronously" in repr(task.get_coro())
        ]
        if not running:
            return
        await asyncio.wait(running, timeout=5)


def names(handoff_id: str) -> st.SearchStrategy[Any]:
    """What a click's value or a modal's metadata names: the real handoff, or anything."""
    return st.one_of(st.just(handoff_id), st.just(handoff_id), TEXT, JSON_VALUE)


@FUZZ
@given(name=st.one_of(st.sampled_from(list(Command)), TEXT), text=COMMAND_TEXT, user=USER)
async def test_no_slash_command_fails(
    slack: Slack,
    caplog: pytest.LogCaptureFixture,
    name: str,
    text: str,
    user: str,
) -> None:
    """Whatever a slash command says, it is answered below 500 and logs no error."""
    watch = Watch(slack.services, caplog)
    await watch.before()
    try:
        sent = await slack.driver.command(name, text, user=user, channel=REVIEW_CHANNEL)
    except UnicodeEncodeError:
        return  # a lone surrogate cannot be sent as a form field
    await settle()
    await watch.after(sent.status, f"{name} {text!r} by {user}")


@FUZZ
@given(data=st.data(), action_id=ACTION_ID, user=USER, channel=CHANNEL, block_id=TEXT)
async def test_no_click_fails(
    slack: Slack,
    handoff_id: str,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    action_id: str,
    user: str,
    channel: str,
    block_id: str,
) -> None:
    """Whatever a click reports, it is answered below 500 and logs no error."""
    value = data.draw(names(handoff_id), label="value")
    watch = Watch(slack.services, caplog)
    await watch.before()
    try:
        sent = await slack.driver.click(
            action_id=action_id,
            user=user,
            channel=channel,
            message_ts=str(MESSAGE["ts"]),
            value=value,
            block_id=block_id,
            message=MESSAGE,
        )
    except UnicodeEncodeError:
        return
    await settle()
    await watch.after(sent.status, f"{action_id} click by {user} with {value!r}")


@FUZZ
@given(data=st.data(), callback_id=CALLBACK_ID, user=USER, state=STATE_VALUES)
async def test_no_modal_submission_fails(
    slack: Slack,
    handoff_id: str,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    callback_id: str,
    user: str,
    state: dict[str, dict[str, Any]],
) -> None:
    """Whatever a modal submission holds, it is answered below 500 and logs no error."""
    metadata = data.draw(names(handoff_id), label="private_metadata")
    watch = Watch(slack.services, caplog)
    await watch.before()
    try:
        sent = await slack.driver.submit_view(
            user=user,
            callback_id=callback_id or "x",
            private_metadata=metadata if isinstance(metadata, str) else str(metadata),
            state_values=state,
        )
    except UnicodeEncodeError:
        return
    await settle()
    await watch.after(sent.status, f"{callback_id} submitted by {user}: {state!r}")
