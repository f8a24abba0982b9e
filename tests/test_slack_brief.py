"""``/handrail brief WORKFLOW``: the last recorded backtest, privately, for admins."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from sandbox.blockkit_limits import check_blocks
from tests.command_harness import command, running_commands, text_of
from tests.conftest import TEST_WORKFLOWS, Database
from tests.slack_harness import Slack
from workflows.backtest.promotion import record_backtest
from workflows.backtest.scan import run_backtest
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_commands(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def record(slack: Slack, brief: HandrailConfig) -> int:
    """Backtest ``brief`` over what the gate recorded and keep it, as ``--record`` does."""
    services = slack.services
    async with services.readers() as db:
        report = await run_backtest(
            db,
            current=services.config,
            proposed=brief,
            brief="proposed.yml",
            workflows=["ticket-triage"],
            since=timedelta(days=14),
            now=services.clock(),
        )
    async with services.sessions() as db, db.begin():
        (entry,) = await record_backtest(
            db, report=report, proposed=brief, actor="cli:ops", now=services.clock()
        )
    return entry.sequence


async def test_brief_without_a_recorded_backtest_says_how_to_record_one(slack: Slack) -> None:
    """An admin asking before any backtest was recorded is told the command that records one."""
    answer = await command(slack, "/handrail", "brief ticket-triage", user="U0OWNER")
    assert answer["response_type"] == "ephemeral"
    assert "No backtest of *ticket-triage* was recorded" in text_of(answer)
    assert "--record" in text_of(answer)


async def test_brief_shows_the_last_recorded_backtest(slack: Slack) -> None:
    """The figures of the recorded backtest are shown, with who recorded it and the entry."""
    await slack.open_review()
    data = copy.deepcopy(TEST_WORKFLOWS)
    data["workflows"]["ticket-triage"].update(mode="auto", require_approval=[], stop_topics=[])
    sequence = await record(slack, parse_config(data))
    answer = await command(slack, "/handrail", "brief ticket-triage", user="U0OWNER")
    text = text_of(answer)
    assert "1 gate question(s) re-decided under a brief in mode `auto`" in text
    assert "review → allow 1" in text
    assert "Recorded by cli:ops" in text
    assert f"(audit entry #{sequence})" in text
    assert "differs from the one it tested" in text
    assert check_blocks(answer["blocks"]) == []


async def test_brief_is_for_admins_only(slack: Slack) -> None:
    """A reviewer who is not an admin is refused privately."""
    answer = await command(slack, "/handrail", "brief ticket-triage", user="U0ALICE")
    assert "Permission denied" in text_of(answer)


async def test_brief_names_the_known_workflows_for_an_unknown_one(slack: Slack) -> None:
    """An unknown workflow is answered with the workflows there are."""
    answer = await command(slack, "/handrail", "brief payroll", user="U0OWNER")
    assert "No workflow named 'payroll'" in text_of(answer)
