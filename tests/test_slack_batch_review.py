"""Batch review: approve several pending cases of one workflow and action from one message."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.ids import ActionId
from store.audit_chain import DECIDED
from store.models import AuditEntry, Handoff
from tests.command_harness import answer_to, command, running_commands, text_of
from tests.conftest import TEST_WORKFLOWS, Database
from tests.slack_harness import DRAFT, REVIEW_CHANNEL, Slack
from workflows.audit.verify import verify_audit_log
from workflows.clock import ManualClock
from workflows.config.brief import parse_config
from workflows.review.approval import approval_digest


def config_with(quorum: bool) -> dict[str, Any]:
    raw = copy.deepcopy(TEST_WORKFLOWS)
    triage = raw["workflows"]["ticket-triage"]
    triage["reviewers"] = ["U0ALICE", "U0BOB"]
    if quorum:
        triage["approvals"] = {"send_reply": {"required": 2}}
    return raw


@pytest.fixture
async def slack(database: Database, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Slack]:
    async with running_commands(
        database=database, tmp_path=tmp_path, clock=clock, config=parse_config(config_with(False))
    ) as running:
        yield running


@pytest.fixture
async def quorum_slack(
    database: Database, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Slack]:
    async with running_commands(
        database=database, tmp_path=tmp_path, clock=clock, config=parse_config(config_with(True))
    ) as running:
        yield running


async def approve_all(slack: Slack, user: str, *, value: str | None = None) -> dict[str, Any]:
    """``user`` lists send_reply cases and clicks Approve all (its value forged if given)."""
    await command(slack, "/handrail", "review ticket-triage send_reply", user=user)
    listing = [e for e in slack.emulator.ephemerals if e.user == user][-1]
    extra: dict[str, Any] = {} if value is None else {"value": value, "block_id": "forged"}
    sent = await slack.driver.click(
        action_id=ActionId.BATCH_APPROVE,
        user=user,
        channel=REVIEW_CHANNEL,
        message_ts=listing.ts,
        **extra,
    )
    return await answer_to(slack, sent)


async def test_the_review_list_shows_the_pending_cases_of_one_action(slack: Slack) -> None:
    """/handrail review lists each pending case and one Approve all button for them."""
    ids = [(await slack.open_review())[1] for _ in range(3)]
    answer = await command(slack, "/handrail", "review ticket-triage send_reply", user="U0ALICE")
    shown = text_of(answer)
    assert all(handoff_id in shown for handoff_id in ids)
    [button] = [
        element
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert button["text"]["text"] == "Approve all 3"
    assert json.loads(button["value"])["ids"] == ids


async def test_a_non_reviewer_cannot_list_cases(slack: Slack) -> None:
    """Someone who is not a reviewer of the workflow is refused the list."""
    await slack.open_review()
    answer = await command(slack, "/handrail", "review ticket-triage send_reply", user="U0OWNER")
    assert "Permission denied: <@U0OWNER> is not a reviewer of ticket-triage" in text_of(answer)


async def test_approve_all_records_each_decision_bound_and_audited_separately(
    slack: Slack,
) -> None:
    """Each case gets its own decision, digest and audit entry, and the chain verifies."""
    ids = [(await slack.open_review())[1] for _ in range(3)]
    answer = await approve_all(slack, "U0ALICE")
    assert text_of(answer).count("approved") >= 3
    for handoff_id in ids:
        decision = await slack.decided(handoff_id)
        assert (decision.outcome, decision.reviewer) == ("approved", "U0ALICE")
        assert decision.approval_digest == approval_digest(
            action="send_reply", final_text=DRAFT, payload=None
        )
    async with slack.services.readers() as db:
        entries = (
            await db.scalars(select(AuditEntry.details).where(AuditEntry.action == DECIDED))
        ).all()
        verification = await verify_audit_log(db)
    assert sorted(str(entry["handoff_id"]) for entry in entries if entry) == sorted(ids)
    assert verification.broken is None


async def test_a_case_decided_meanwhile_is_left_alone(slack: Slack) -> None:
    """A case Bob approved after the list was shown is reported, not decided again."""
    first, second = [(await slack.open_review())[1] for _ in range(2)]
    await command(slack, "/handrail", "review ticket-triage send_reply", user="U0ALICE")
    await slack.click(ActionId.HANDOFF_APPROVE, first, user="U0BOB")
    assert (await slack.decided(first)).reviewer == "U0BOB"
    listing = [e for e in slack.emulator.ephemerals if e.user == "U0ALICE"][-1]
    sent = await slack.driver.click(
        action_id=ActionId.BATCH_APPROVE,
        user="U0ALICE",
        channel=REVIEW_CHANNEL,
        message_ts=listing.ts,
    )
    answer = await answer_to(slack, sent)
    assert "Already approved by <@U0BOB>" in text_of(answer)
    assert (await slack.decided(first)).reviewer == "U0BOB"
    assert (await slack.decided(second)).reviewer == "U0ALICE"


async def test_a_forged_batch_cannot_reach_another_action(slack: Slack) -> None:
    """IDs of cases of another action, slipped into the button, are not approved."""
    _, handoff_id = await slack.open_review()
    forged = json.dumps({"w": "ticket-triage", "a": "refund", "ids": [handoff_id]})
    answer = await approve_all(slack, "U0ALICE", value=forged)
    assert "is not a refund case of ticket-triage; not approved" in text_of(answer)
    async with slack.services.readers() as db:
        handoff = await db.get(Handoff, handoff_id)
    assert handoff is not None
    assert (handoff.status, handoff.claimed_by) == ("pending", None)


async def test_batch_approval_counts_one_vote_per_case_under_a_quorum(
    quorum_slack: Slack,
) -> None:
    """Under a quorum each case gets one vote from the batch; a second reviewer completes it."""
    slack = quorum_slack
    ids = [(await slack.open_review())[1] for _ in range(2)]
    answer = await approve_all(slack, "U0ALICE")
    assert "your approval counts towards its quorum" in text_of(answer)
    assert await slack.decision_count() == 0
    await approve_all(slack, "U0BOB")
    for handoff_id in ids:
        decision = await slack.decided(handoff_id)
        assert decision.approvers == ["U0ALICE", "U0BOB"]
