"""A tool failure handed to a person: "I'll handle it" takes the run over, Retry asks again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId
from tests.conftest import Database
from tests.slack_harness import Slack, running_slack
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


async def test_take_over_marks_the_run_handed_over(slack: Slack) -> None:
    """ "I'll handle it" records a take-over and the run is handed over to a person."""
    run_id, handoff_id = await slack.open_tool_failure()
    await slack.click(ActionId.HANDOFF_TAKE_OVER, handoff_id, user="U0BOB")
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.reviewer) == ("taken_over", "U0BOB")
    run = await slack.get_run(run_id)
    assert run["status"] == "handed_over"


async def test_retry_records_a_retry_request(slack: Slack) -> None:
    """Retry records retry_requested and leaves the run to the automation."""
    run_id, handoff_id = await slack.open_tool_failure()
    await slack.click(ActionId.HANDOFF_RETRY, handoff_id)
    decision = await slack.decided(handoff_id)
    assert decision.outcome == "retry_requested"
    assert (await slack.get_run(run_id))["status"] == "running"
