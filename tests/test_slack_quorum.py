"""Quorums over Slack: each Approve is a vote, the completing one decides, with every approver."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from handlers.ids import ActionId, BlockId, InputId
from store.audit_chain import APPROVAL_VOTED
from store.models import ApprovalVote, AuditEntry, Decision
from tests.command_harness import command, text_of
from tests.conftest import TEST_WORKFLOWS, Database, bearer
from tests.slack_harness import DRAFT, REVIEW_CHANNEL, Slack, eventually, running_slack
from workflows.audit.verify import verify_audit_log
from workflows.clock import ManualClock
from workflows.config.brief import parse_config
from workflows.review.approval import approval_digest
from workflows.review.handoffs import expire_overdue

EDITED = "Your refund of 20 EUR is on its way."


def quorum_config(**rule: Any) -> dict[str, Any]:
    raw = copy.deepcopy(TEST_WORKFLOWS)
    triage = raw["workflows"]["ticket-triage"]
    triage["reviewers"] = ["U0ALICE", "U0BOB", "U0CAROL"]
    triage["approvals"] = {"send_reply": rule or {"required": 2}}
    return raw


@pytest.fixture
async def slack(database: Database, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Slack]:
    """send_reply needs two of Alice, Bob and Carol."""
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=parse_config(quorum_config())
    ) as running:
        yield running


@pytest.fixture
async def group_slack(
    database: Database, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Slack]:
    """send_reply needs one approver from finance (Alice, Erin) and one from support (Bob)."""
    raw = quorum_config(required=2, **{"from": ["S0FINANCE", "S0SUPPORT"]})
    raw["workflows"]["ticket-triage"]["reviewers"] = ["S0FINANCE", "S0SUPPORT", "U0ZED"]
    async with running_slack(
        database=database,
        tmp_path=tmp_path,
        clock=clock,
        config=parse_config(raw),
        usergroups={"S0FINANCE": ["U0ALICE", "U0ERIN"], "S0SUPPORT": ["U0BOB"]},
    ) as running:
        yield running


async def approve(slack: Slack, handoff_id: str, user: str) -> None:
    response = await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user=user)
    assert response.status == 200


async def message_text(slack: Slack, handoff_id: str) -> str:
    await slack.deliver()
    return json.dumps(slack.posted(handoff_id).blocks, ensure_ascii=False)


async def votes(slack: Slack, handoff_id: str) -> list[tuple[int, str]]:
    async with slack.services.readers() as db:
        rows = await db.execute(
            select(ApprovalVote.round, ApprovalVote.reviewer)
            .where(ApprovalVote.handoff_id == handoff_id)
            .order_by(ApprovalVote.id)
        )
        return [(row.round, row.reviewer) for row in rows]


async def test_one_approval_of_two_leaves_the_case_pending_and_says_so(slack: Slack) -> None:
    """The first Approve is counted, nothing is decided, and the message names who is missing."""
    run_id, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    assert await votes(slack, handoff_id) == [(0, "U0ALICE")]
    assert await slack.decision(handoff_id) is None
    [handoff] = (await slack.get_run(run_id))["handoffs"]
    assert handoff["status"] == "pending"
    shown = await message_text(slack, handoff_id)
    assert "Needs 2 approvals" in shown
    assert "approved so far by <@U0ALICE>" in shown
    assert "1 more needed" in shown


async def test_the_approval_that_completes_the_quorum_decides_with_every_approver(
    slack: Slack,
) -> None:
    """The second distinct approver decides; the decision, API and message name both."""
    run_id, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await approve(slack, handoff_id, "U0BOB")
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.reviewer, decision.approvers) == (
        "approved",
        "U0BOB",
        ["U0ALICE", "U0BOB"],
    )
    assert decision.approval_digest == approval_digest(
        action="send_reply", final_text=DRAFT, payload=None
    )
    [handoff] = (await slack.get_run(run_id))["handoffs"]
    assert handoff["decision"]["approvers"] == ["U0ALICE", "U0BOB"]
    assert "by <@U0ALICE> and <@U0BOB>" in await message_text(slack, handoff_id)


async def test_the_same_person_cannot_count_twice(slack: Slack) -> None:
    """A second Approve by the same reviewer is refused ephemerally and counts nothing."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await approve(slack, handoff_id, "U0ALICE")
    notice = await slack.ephemeral_to("U0ALICE")
    assert notice.text.startswith("You already approved this; 1 more approval needed")
    assert await votes(slack, handoff_id) == [(0, "U0ALICE")]
    assert await slack.decision(handoff_id) is None


async def test_a_rejection_after_one_approval_ends_the_case(slack: Slack) -> None:
    """Any rejection decides at once, whatever approvals came before it."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id, user="U0BOB")
    modal = await slack.opened_view("U0BOB")
    await slack.driver.submit_view(
        user="U0BOB",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "Wrong amount"}},
    )
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.approval_digest) == ("rejected", None)
    await slack.driver.click(  # a late Approve, on the message as it was
        action_id=ActionId.HANDOFF_APPROVE,
        user="U0CAROL",
        channel=REVIEW_CHANNEL,
        message_ts=slack.posted(handoff_id).ts,
        value=handoff_id,
        block_id="stale",
    )
    notice = await slack.ephemeral_to("U0CAROL")
    assert "rejected" in notice.text
    assert await votes(slack, handoff_id) == [(0, "U0ALICE")]


async def test_an_edit_restarts_the_count_on_the_edited_text(slack: Slack) -> None:
    """Approvals before an edit were of the old text: the editor's counts, then one more."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id, user="U0BOB")
    modal = await slack.opened_view("U0BOB")
    response = await slack.driver.submit_view(
        user="U0BOB",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: EDITED}},
    )
    assert (response.status, response.text) == (200, "")
    assert await slack.decision(handoff_id) is None
    shown = await message_text(slack, handoff_id)
    assert EDITED in shown
    assert "approved so far of the edited text by <@U0BOB>" in shown
    await approve(slack, handoff_id, "U0ALICE")
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.final_text, decision.approvers) == (
        "edited",
        EDITED,
        ["U0BOB", "U0ALICE"],
    )
    assert decision.approval_digest == approval_digest(
        action="send_reply", final_text=EDITED, payload=None
    )
    assert await votes(slack, handoff_id) == [(0, "U0ALICE"), (1, "U0BOB"), (1, "U0ALICE")]


async def test_expiry_after_one_approval_is_never_an_approval(
    slack: Slack, clock: ManualClock
) -> None:
    """A case that did not reach its quorum expires unapproved."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    clock.advance(hours=3)
    async with slack.services.sessions() as db, db.begin():
        expired = await expire_overdue(db, config=slack.services.config, now=clock())
    assert [handoff.id for handoff in expired] == [handoff_id]
    assert await slack.decision(handoff_id) is None


async def test_each_vote_and_the_decision_are_in_a_chain_that_verifies(slack: Slack) -> None:
    """Every approval is appended to the audit chain, and the chain and decision verify."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await approve(slack, handoff_id, "U0BOB")
    decision = await slack.decided(handoff_id)
    async with slack.services.readers() as db:
        voters = (
            await db.scalars(
                select(AuditEntry.actor)
                .where(AuditEntry.action == APPROVAL_VOTED)
                .order_by(AuditEntry.sequence)
            )
        ).all()
        entry = await db.scalar(
            select(AuditEntry).where(AuditEntry.sequence == decision.audit_sequence)
        )
        verification = await verify_audit_log(db)
    assert voters == ["U0ALICE", "U0BOB"]
    assert entry is not None
    assert entry.details is not None
    assert entry.details["approvers"] == ["U0ALICE", "U0BOB"]
    assert verification.broken is None


async def test_an_approver_removed_from_workflows_yml_no_longer_counts(slack: Slack) -> None:
    """An approval by someone no longer a reviewer is not counted when the next one comes."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    raw = quorum_config()
    raw["workflows"]["ticket-triage"]["reviewers"] = ["U0BOB", "U0CAROL"]
    slack.services.config = parse_config(raw)
    await approve(slack, handoff_id, "U0BOB")
    assert await slack.decision(handoff_id) is None
    assert "approved so far by <@U0BOB> · 1 more needed" in await message_text(slack, handoff_id)
    await approve(slack, handoff_id, "U0CAROL")
    decision = await slack.decided(handoff_id)
    assert decision.approvers == ["U0BOB", "U0CAROL"]


async def test_each_usergroup_in_from_needs_an_approver_of_its_own(group_slack: Slack) -> None:
    """Two finance approvals do not make the quorum; the support one completes it."""
    slack = group_slack
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await approve(slack, handoff_id, "U0ERIN")
    assert await slack.decision(handoff_id) is None
    assert "1 more needed, from <!subteam^S0SUPPORT>" in await message_text(slack, handoff_id)
    await approve(slack, handoff_id, "U0BOB")
    decision = await slack.decided(handoff_id)
    assert decision.approvers == ["U0ALICE", "U0ERIN", "U0BOB"]


async def test_a_reviewer_in_none_of_the_usergroups_is_refused(group_slack: Slack) -> None:
    """When every approval must come from a listed usergroup, an outsider's is refused."""
    slack = group_slack
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ZED")
    notice = await slack.ephemeral_to("U0ZED")
    assert notice.text.startswith("Permission denied: each approval of send_reply must come")
    assert await votes(slack, handoff_id) == []


async def test_two_approvers_and_a_rejecter_at_once_decide_exactly_once(slack: Slack) -> None:
    """Alice and Bob approve while Carol rejects, on many cases: one decision each, whole."""
    cases: list[tuple[str, str, str]] = []
    for _ in range(8):
        _, handoff_id = await slack.open_review()
        ts = await slack.post_message(handoff_id)
        await slack.click(ActionId.HANDOFF_REJECT, handoff_id, user="U0CAROL", ts=ts)
        modal = await eventually(
            lambda h=handoff_id: _modal_for(slack, "U0CAROL", h), what="Carol's modal"
        )
        cases.append((handoff_id, ts, modal))

    async def reject(handoff_id: str, view_id: str) -> None:
        await slack.driver.submit_view(
            user="U0CAROL",
            view_id=view_id,
            state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "No"}},
        )

    await asyncio.gather(
        *(
            call
            for handoff_id, ts, view_id in cases
            for call in (
                slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts),
                slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB", ts=ts),
                reject(handoff_id, view_id),
            )
        )
    )
    for handoff_id, _, _ in cases:
        decision = await slack.decided(handoff_id)
        if decision.outcome == "approved":
            assert sorted(decision.approvers or []) == ["U0ALICE", "U0BOB"]
        else:
            assert decision.outcome == "rejected"
            assert decision.approvers is None
    async with slack.services.readers() as db:
        count = await db.scalar(select(func.count()).select_from(Decision))
        verification = await verify_audit_log(db)
    assert count == len(cases)
    assert verification.broken is None


async def _modal_for(slack: Slack, user: str, handoff_id: str) -> str | None:
    for view in slack.emulator.views:
        if view.user == user and view.private_metadata == handoff_id:
            return str(view.id)
    return None


async def test_the_long_poll_and_trace_show_every_approver(slack: Slack) -> None:
    """The automation's long-poll and /trace name both approvers of a quorum."""
    run_id, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    await approve(slack, handoff_id, "U0BOB")
    await slack.decided(handoff_id)
    polled = await slack.api.get(
        f"/api/v1/handoffs/{handoff_id}?wait=1", headers=bearer(slack.token)
    )
    body = await polled.json()
    assert (body["status"], body["decision"]["approvers"]) == ("approved", ["U0ALICE", "U0BOB"])
    answer = await command(slack, "/trace", run_id, user="U0ALICE")
    assert "*approved* by <@U0ALICE> and <@U0BOB>" in text_of(answer)


async def test_verify_names_a_vote_row_edited_in_the_database(slack: Slack) -> None:
    """A vote whose reviewer is changed directly in the store no longer matches its entry."""
    _, handoff_id = await slack.open_review()
    await approve(slack, handoff_id, "U0ALICE")
    async with slack.services.sessions() as db, db.begin():
        await db.execute(
            update(ApprovalVote)
            .where(ApprovalVote.handoff_id == handoff_id)
            .values(reviewer="U0MALLORY")
        )
    async with slack.services.readers() as db:
        verification = await verify_audit_log(db)
    assert verification.broken is not None
    assert str(verification.broken).endswith("reviewer differ")
    assert f"(handoff {handoff_id})" in str(verification.broken)


async def test_an_approve_on_a_message_showing_the_text_before_an_edit_is_refused(
    slack: Slack,
) -> None:
    """Approve on the message as it was before Bob's edit reached it approves nothing."""
    _, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id, user="U0BOB", ts=ts)
    modal = await slack.opened_view("U0BOB")
    await slack.driver.submit_view(
        user="U0BOB",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: EDITED}},
    )
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0ALICE", ts=ts)
    notice = await slack.ephemeral_to("U0ALICE")
    assert "The text was edited after this message showed it" in notice.text
    assert await votes(slack, handoff_id) == [(1, "U0BOB")]
    await approve(slack, handoff_id, "U0ALICE")  # on the updated message
    assert (await slack.decided(handoff_id)).final_text == EDITED


async def test_a_case_whose_quorum_was_dropped_is_decided_by_the_next_approval(
    slack: Slack,
) -> None:
    """After workflows.yml drops the quorum, one Approve decides, of the edited text."""
    _, handoff_id = await slack.open_review()
    await slack.click(ActionId.HANDOFF_EDIT, handoff_id, user="U0ALICE")
    modal = await slack.opened_view("U0ALICE")
    await slack.driver.submit_view(
        user="U0ALICE",
        view_id=modal.id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: EDITED}},
    )
    raw = quorum_config()
    del raw["workflows"]["ticket-triage"]["approvals"]
    slack.services.config = parse_config(raw)
    await approve(slack, handoff_id, "U0BOB")
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.final_text, decision.approvers) == (
        "edited",
        EDITED,
        ["U0ALICE", "U0BOB"],
    )
