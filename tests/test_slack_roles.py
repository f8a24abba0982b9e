"""Only a workflow's reviewers decide its handoffs; everyone else is told so and changes nothing."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId
from tests.conftest import TEST_WORKFLOWS, Database
from tests.slack_harness import Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


@pytest.fixture
async def group_slack(
    database: Database, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Slack]:
    """ticket-triage reviewed by the usergroup S0REVIEWERS, whose only member is U0CAROL."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"]["reviewers"] = ["S0REVIEWERS"]
    async with running_slack(
        database=database,
        tmp_path=tmp_path,
        clock=clock,
        config=parse_config(raw),
        usergroups={"S0REVIEWERS": ["U0CAROL"]},
    ) as running:
        yield running


async def test_a_non_reviewer_click_is_refused_ephemerally(slack: Slack) -> None:
    """Someone who is not a reviewer gets an ephemeral refusal that names the workflow."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0OWNER")
    notice = await slack.ephemeral_to("U0OWNER")
    assert notice.text.startswith(
        "Permission denied: <@U0OWNER> is not a reviewer of ticket-triage"
    )
    assert notice.channel == "C0REVIEW"


async def test_a_refused_click_is_still_acknowledged_at_once(slack: Slack) -> None:
    """A click refused within milliseconds still gets its plain 200 ack, not a held 404."""
    _, handoff_id = await slack.open_review()
    response = await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0OWNER")
    assert (response.status, response.text) == (200, "")


async def test_a_non_reviewer_click_records_nothing(slack: Slack) -> None:
    """A refused click leaves the handoff pending with no decision."""
    run_id, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0OWNER")
    await slack.ephemeral_to("U0OWNER")
    assert await slack.decision_count() == 0
    [handoff] = (await slack.get_run(run_id))["handoffs"]
    assert handoff["status"] == "pending"


async def test_a_non_reviewer_cannot_open_the_edit_modal(slack: Slack) -> None:
    """Edit by a non-reviewer is refused before any modal opens."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id, user="U0OWNER")
    await slack.ephemeral_to("U0OWNER")
    assert slack.emulator.calls_to("views.open") == []


async def test_a_usergroup_member_may_decide(group_slack: Slack) -> None:
    """A member of a usergroup listed as reviewers is accepted, found through Slack."""
    _, handoff_id = await group_slack.open_review()
    await group_slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0CAROL")
    decision = await group_slack.decided(handoff_id)
    assert decision.reviewer == "U0CAROL"
    [call] = group_slack.emulator.calls_to("usergroups.users.list")
    assert call.body["usergroup"] == "S0REVIEWERS"


async def test_someone_outside_the_usergroup_is_refused(group_slack: Slack) -> None:
    """When reviewers is a usergroup, a person outside it is refused."""
    _, handoff_id = await group_slack.open_review()
    await group_slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE")
    notice = await group_slack.ephemeral_to("U0ALICE")
    assert notice.text.startswith("Permission denied")
    assert await group_slack.decision_count() == 0
