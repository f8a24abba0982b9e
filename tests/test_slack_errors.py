"""What a person sees when a click cannot be served: a missing handoff, or a bug with its ID."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId
from tests.conftest import Database
from tests.slack_harness import REVIEW_CHANNEL, Slack, running_slack
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


async def test_a_click_on_an_unknown_handoff_says_it_no_longer_exists(slack: Slack) -> None:
    """A button whose handoff is gone gets a helpful ephemeral, and nothing is recorded."""
    message = slack.emulator.post_as_user(REVIEW_CHANNEL, "U0OWNER", "an old handoff")
    await slack.driver.click(
        action_id=ActionId.HANDOFF_APPROVE,
        user="U0ALICE",
        channel=REVIEW_CHANNEL,
        message_ts=message.ts,
        block_id="decide",
        value="hof_01GONEGONEGONEGONEGONEGONE",
    )
    notice = await slack.ephemeral_to("U0ALICE")
    assert notice.text.startswith("This handoff no longer exists (hof_01GONEGONEGONEGONEGONEGONE)")
    assert await slack.decision_count() == 0


async def test_an_unexpected_error_gives_the_person_an_error_id(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    """When Slack fails under a click, the person gets an error ID that the log also names."""
    run_id, handoff_id = await slack.open_review()
    slack.emulator.inject("views.open", "http_500")
    with caplog.at_level(logging.ERROR, logger="handrail.slack"):
        await slack.click(ActionId.HANDOFF_EDIT, handoff_id)
        notice = await slack.ephemeral_to("U0ALICE")
    found = re.search(r"error ID `(err_[0-9A-Z]+)`", notice.text)
    assert found is not None, notice.text
    [record] = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert f"run {run_id}" in record.getMessage()
    assert f"handoff {handoff_id}" in record.getMessage()
