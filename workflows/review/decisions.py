"""Decisions: a reviewer approves, edits, rejects, takes over or asks for a retry.

The first decision wins, decided by a conditional UPDATE in the database; the loser is told
who decided and when. A decision after the review timeout is never recorded: the same
UPDATE refuses it, and the handoff is expired then and there if the expiry job has not
got to it yet. The decision, its trace step, the in-place message update, the thread
reply and the webhook to the automation are written in one transaction. While the workflow
is paused the decision is recorded but held: not released to the automation and its webhook
not sent until an admin resumes.

A click is claimed before Slack is told it was received (``workflows.review.claims``); a claimed
handoff is decided only by its claim, which ``record_decision`` then records.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff
from store.repositories import handoffs as repo
from store.repositories import parked as parked_rows
from workflows.audit.entries import append_decision_entries
from workflows.config.brief import WorkflowConfig
from workflows.delivery import outbox
from workflows.delivery.callbacks import outcome_webhook_row
from workflows.errors import Conflict, HandrailError, InvalidInput
from workflows.ledger.runs import RunStep, Step, get_run_of, record_run_steps
from workflows.ledger.story import decision_json
from workflows.ledger.views import EDIT_BOX_MAX
from workflows.pause.state import hold_pause_state
from workflows.review import quorum
from workflows.review.approval import APPROVING_OUTCOMES, approval_digest
from workflows.review.handoff_keys import post_key
from workflows.review.handoffs import (
    DECISION_REPLY_RENDER,
    expire_if_overdue,
    get_handoff_of,
    message_refresh_row,
)

#: outcome → the handoff status it leaves behind.
OUTCOME_STATUS = {
    "approved": "approved",
    "edited": "edited",
    "rejected": "rejected",
    "taken_over": "taken_over",
    "retry_requested": "retry_requested",
}
TOOL_FAILURE_OUTCOMES = frozenset({"taken_over", "retry_requested"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionInput:
    outcome: str
    reviewer: str
    final_text: str | None = None
    reason: str | None = None
    category: str | None = None


def edit_diff(before: str, after: str) -> str:
    """A unified diff of the reviewer's edit, line by line."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "draft", "sent", lineterm="", n=1
    )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRequest:
    """One decision to record: on which handoff, under which policy, what, and when.

    ``paused``: whether the workflow is paused, read by the caller with the switches held
    (``hold_pause_state``) in this transaction; None to read it here.
    """

    handoff_id: str
    policy: WorkflowConfig
    decision: DecisionInput
    now: datetime
    paused: bool | None = None


async def record_decision(
    db: AsyncSession,
    *,
    handoff_id: str,
    policy: WorkflowConfig,
    decision: DecisionInput,
    now: datetime,
    paused: bool | None = None,
) -> Decision:
    """Record the first decision on a pending handoff and queue everything it causes.

    ``paused``: whether the workflow is paused, read by the caller with the switches held
    (``hold_pause_state``) in this transaction; None to read it here. A batch of one of
    ``record_decisions``; what refuses the decision is raised.
    """
    request = DecisionRequest(
        handoff_id=handoff_id, policy=policy, decision=decision, now=now, paused=paused
    )
    [recorded] = await record_decisions(db, [request])
    if isinstance(recorded, HandrailError):
        raise recorded
    return recorded


@dataclass(slots=True)
class _Accepted:
    """A request that passed its checks, with its handoff and the outcome it records."""

    index: int
    request: DecisionRequest
    handoff: Handoff
    decision: DecisionInput
    #: Every approver of a quorum's decision; None when no quorum applies.
    approvers: list[str] | None = None
    paused: bool = False


async def record_decisions(
    db: AsyncSession, requests: Sequence[DecisionRequest]
) -> list[Decision | HandrailError]:
    """Record each request's decision, in order, and queue everything each one causes.

    For each decision, as for one alone: its row, with its approval digest; its trace
    step; the message update, the thread reply and the webhook (outbox rows); its entry in
    the audit chain. Each is refused on its own (the outcome is not offered, the handoff
    is gone, decided, claimed by another or expired, which is then recorded), with the
    error in its place in the answer; the others are recorded all the same.

    A batch costs a handful of statements whatever its size: one claim of every handoff,
    one reservation of trace positions in every run, one insert each of steps, outbox rows,
    audit entries (linked in memory after one read of the chain's head) and decisions.
    The order of locks is that of a single decision: the pause switches, the handoffs, the
    runs, then the audit chain last.
    """
    answers: list[Decision | HandrailError | None] = [None] * len(requests)
    accepted: list[_Accepted] = []
    for index, request in enumerate(requests):
        try:
            handoff = await get_handoff_of(db, handoff_id=request.handoff_id, workflow=None)
            decision, approvers = await quorum.settle(
                db,
                handoff,
                request.decision,
                approving=request.decision.outcome in APPROVING_OUTCOMES,
            )
            await check_outcome(db, handoff, decision)
        except HandrailError as refused:
            answers[index] = refused
            continue
        if decision.outcome == "edited" and decision.final_text == handoff.draft:
            # Saved without a change: that is an approval, and the digest should count it so.
            decision = replace(decision, outcome="approved")
        accepted.append(_Accepted(index, request, handoff, decision, approvers))
    # Before the claim: the switches are locked before any handoff row, here and in the
    # expiry job, so neither waits in a circle with a resume. Each workflow's once.
    paused: dict[str, bool] = {}
    for workflow in sorted({a.handoff.workflow for a in accepted if a.request.paused is None}):
        paused[workflow] = await hold_pause_state(db, workflow) is not None
    for item in accepted:
        given = item.request.paused
        item.paused = paused[item.handoff.workflow] if given is None else given
    won = await _claim(db, accepted)
    for item in accepted:
        if item.index not in won:
            answers[item.index] = await _not_claimed(
                db, handoff=item.handoff, policy=item.request.policy, now=item.request.now
            )
    recorded = [(item, _decision_row(item)) for item in accepted if item.index in won]
    await _queue_consequences(db, recorded)
    await db.flush()  # every run row written, before the audit chain's lock is taken
    await append_decision_entries(db, [(row, item.handoff.workflow) for item, row in recorded])
    db.add_all([row for _, row in recorded])
    await db.flush()
    for item, row in recorded:
        answers[item.index] = row
    return [_answered(answer) for answer in answers]


def _answered(answer: Decision | HandrailError | None) -> Decision | HandrailError:
    """Every request is refused, lost or recorded by the end of ``record_decisions``."""
    assert answer is not None
    return answer


async def _claim(db: AsyncSession, accepted: Sequence[_Accepted]) -> set[int]:
    """Move the handoffs to their outcomes in one statement; the indexes of the winners.

    Of two requests for one handoff in a batch, the first is the one tried, as if they
    had come one after the other.
    """
    first: dict[str, _Accepted] = {}
    for item in accepted:
        first.setdefault(item.handoff.id, item)
    moved = await repo.claim_pending_handoffs(
        db,
        [
            repo.PendingClaim(
                item.handoff,
                OUTCOME_STATUS[item.decision.outcome],
                item.request.now,
                reviewer=item.decision.reviewer,
                outcome=item.decision.outcome,
            )
            for item in first.values()
        ],
    )
    return {item.index for item in first.values() if item.handoff.id in moved}


def _decision_row(item: _Accepted) -> Decision:
    handoff, decision, now = item.handoff, item.decision, item.request.now
    final_text = decision.final_text if decision.outcome == "edited" else None
    if decision.outcome == "approved":
        final_text = handoff.draft
    return Decision(
        handoff_id=handoff.id,
        run_id=handoff.run_id,
        outcome=decision.outcome,
        reviewer=decision.reviewer,
        final_text=final_text,
        diff=edit_diff(handoff.draft or "", final_text or "")
        if decision.outcome == "edited"
        else None,
        reason=decision.reason,
        category=decision.category,
        decided_at=now,
        latency_ms=int((now - handoff.created_at).total_seconds() * 1000),
        released_at=None if item.paused else now,
        approval_digest=approval_digest(
            action=handoff.action, final_text=final_text, payload=handoff.payload
        )
        if decision.outcome in APPROVING_OUTCOMES
        else None,
        acted_at=None,
        approvers=item.approvers,
    )


async def _queue_consequences(
    db: AsyncSession, recorded: Sequence[tuple[_Accepted, Decision]]
) -> None:
    """The decisions' trace steps, then their message updates, thread replies and
    webhooks, each kind in one statement."""
    await record_run_steps(
        db,
        [
            RunStep(
                item.handoff.run_id,
                item.handoff.workflow,
                Step(
                    type="decision",
                    name=row.outcome,
                    status="held" if item.paused else row.outcome,
                    output={
                        "handoff_id": item.handoff.id,
                        "shadow": item.handoff.shadow,
                        **decision_json(row),
                    },
                ),
                item.request.now,
            )
            for item, row in recorded
        ],
    )
    deliveries: list[dict[str, Any] | None] = []
    for item, row in recorded:
        handoff, now = item.handoff, item.request.now
        if row.outcome == "taken_over":
            await _mark_run_handed_over(db, handoff)
        deliveries.append(message_refresh_row(handoff=handoff, reason="decided", now=now))
        if handoff.channel is not None:
            deliveries.append(
                outbox.post_row(
                    key=f"handoff:{handoff.id}:decision-reply",
                    channel=handoff.channel,
                    render=DECISION_REPLY_RENDER,
                    ref=handoff.id,
                    thread_of=post_key(handoff.id),
                    ordering_key=post_key(handoff.id),
                    workflow=handoff.workflow,
                    now=now,
                )
            )
        deliveries.append(
            outcome_webhook_row(
                handoff=handoff, policy=item.request.policy, held=item.paused, now=now
            )
        )
    await outbox.enqueue_rows(db, [row for row in deliveries if row is not None])


async def check_outcome(db: AsyncSession, handoff: Handoff, decision: DecisionInput) -> None:
    """Refuse an outcome the handoff's message does not offer; nothing is recorded then.

    The rule is the one the buttons follow (``handlers.blocks.handoff``), so a forged or
    stale click cannot record what no one was asked: a tool failure offers I'll handle it
    and Retry; every other kind offers Approve and Reject, and Edit only when there is a
    draft that fits a text box. The one outcome recorded without a button is the take-over
    of a parked job, on the handoff that take-over opened (``workflows.parking``).
    """
    if handoff.kind == "tool_failure":
        allowed = set(TOOL_FAILURE_OUTCOMES)
    else:
        allowed = {"approved", "rejected"}
        if handoff.draft is not None and len(handoff.draft) <= EDIT_BOX_MAX:
            allowed.add("edited")
        if await _opened_by_parked_take_over(db, handoff):
            allowed.add("taken_over")
    if decision.outcome not in allowed:
        raise InvalidInput(
            f"'{decision.outcome}' is not a decision for a {handoff.kind} handoff "
            f"(it offers {', '.join(sorted(allowed))}); nothing was recorded",
            details=[{"loc": "outcome", "outcome": decision.outcome, "kind": handoff.kind}],
        )
    if decision.outcome == "edited" and not (decision.final_text or "").strip():
        raise InvalidInput("the edited text is empty", details=[{"loc": "final_text"}])
    if decision.outcome == "rejected" and not (decision.reason or "").strip():
        raise InvalidInput("a rejection needs a reason", details=[{"loc": "reason"}])


async def _opened_by_parked_take_over(db: AsyncSession, handoff: Handoff) -> bool:
    """Whether ``handoff`` is the one a person's Take over of a parked job opened.

    Checked on the parked job's row, which only the take-over writes; the handoff's own
    ``context`` names the job but comes from whoever opened it.
    """
    parked_id = handoff.context.get("parked_id") if isinstance(handoff.context, dict) else None
    if not isinstance(parked_id, str):
        return False
    job = await parked_rows.get_parked_job(db, parked_id)
    return job is not None and job.handoff_id == handoff.id


class DecidedTooLate(Conflict):
    """A decision that came after the review timeout: nothing was recorded.

    The handoff is expired by then, possibly by the very transaction that refused the
    decision (its message update and webhook with it), so the caller commits that
    transaction and raises this afterwards.
    """


async def _not_claimed(
    db: AsyncSession, *, handoff: Handoff, policy: WorkflowConfig, now: datetime
) -> Conflict:
    """Why the claim failed: the handoff expired (now, if still pending) or was decided."""
    await expire_if_overdue(db, handoff_id=handoff.id, policy=policy, now=now)
    await db.refresh(handoff)
    if handoff.status == "expired" and handoff.expires_at is not None:
        return DecidedTooLate(
            f"this handoff expired at {handoff.expires_at:%H:%M} UTC; nothing was recorded",
            details=[{"loc": "handoff_id", "status": "expired"}],
        )
    return await _taken(db, handoff)


async def already_taken(
    db: AsyncSession, *, handoff_id: str, decision: DecisionInput
) -> Conflict | None:
    """Why ``decision`` would lose because someone else claimed or decided the handoff.

    Read-only, so a modal submission that lost answers without queueing for the write
    lock (it decides before its ack). None when the decision may still win: the write
    in ``record_decision`` has the last word.
    """
    handoff = await get_handoff_of(db, handoff_id=handoff_id, workflow=None)
    if handoff.status == "pending" and handoff.claimed_by in (None, decision.reviewer):
        return None
    if handoff.status == "expired":
        return None  # said by ``record_decision``, with the time it expired
    return await _taken(db, handoff)


async def _taken(db: AsyncSession, handoff: Handoff) -> Conflict:
    """Who claimed or decided ``handoff`` first, as the loser is told."""
    existing = await repo.get_decision(db, handoff.id)
    if existing is None and handoff.claimed_by is not None and handoff.claimed_at is not None:
        outcome = str(handoff.claimed_outcome).replace("_", " ")
        return Conflict(
            f"already {outcome} by <@{handoff.claimed_by}> at "
            f"{handoff.claimed_at:%H:%M} UTC; nothing was changed",
            details=[{"loc": "handoff_id", "status": "claimed", "reviewer": handoff.claimed_by}],
        )
    if existing is None:
        return Conflict(
            f"this handoff is {handoff.status}; nothing was recorded",
            details=[{"loc": "handoff_id", "status": handoff.status}],
        )
    return Conflict(
        f"already {existing.outcome.replace('_', ' ')} by <@{existing.reviewer}> at "
        f"{existing.decided_at:%H:%M} UTC; nothing was changed",
        details=[{"loc": "handoff_id", "status": handoff.status, "reviewer": existing.reviewer}],
    )


async def _mark_run_handed_over(db: AsyncSession, handoff: Handoff) -> None:
    run = await get_run_of(db, workflow=handoff.workflow, run_id=handoff.run_id)
    if run.status == "running":
        run.status = "handed_over"
