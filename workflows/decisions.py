"""Decisions: a reviewer approves, edits, rejects, takes over or asks for a retry.

The first decision wins, decided by a conditional UPDATE in the database; the loser is told
who decided and when. A decision after the review timeout is never recorded: the same
UPDATE refuses it, and the handoff is expired then and there if the expiry job has not
got to it yet. The decision, its trace step, the in-place message update, the thread
reply and the webhook to the automation are written in one transaction. While the workflow
is paused the decision is recorded but held: not released to the automation and its webhook
not sent until an admin resumes.

A click is claimed before Slack is told it was received (``workflows.claims``); a claimed
handoff is decided only by its claim, which ``record_decision`` then records.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff
from store.repositories import handoffs as repo
from store.repositories import parked as parked_rows
from workflows import outbox
from workflows.approval import APPROVING_OUTCOMES, approval_digest
from workflows.audit.entries import append_decision_entry
from workflows.callbacks import queue_outcome_webhook
from workflows.config import WorkflowConfig
from workflows.errors import Conflict, InvalidInput
from workflows.handoff_keys import post_key
from workflows.handoffs import (
    DECISION_REPLY_RENDER,
    expire_if_overdue,
    get_handoff_of,
    refresh_message,
)
from workflows.pausing import hold_pause_state
from workflows.review import quorum
from workflows.runs import get_run_of, record_step
from workflows.story import decision_json
from workflows.views import EDIT_BOX_MAX

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
    (``hold_pause_state``) in this transaction; None to read it here.
    """
    handoff = await get_handoff_of(db, handoff_id=handoff_id, workflow=None)
    decision, approvers = await quorum.settle(
        db, handoff, decision, approving=decision.outcome in APPROVING_OUTCOMES
    )
    await check_outcome(db, handoff, decision)
    if decision.outcome == "edited" and decision.final_text == handoff.draft:
        # Saved without a change: that is an approval, and the digest should count it so.
        decision = replace(decision, outcome="approved")
    # Before the claim: the switches are locked before any handoff row, here and in the
    # expiry job, so neither waits in a circle with a resume.
    if paused is None:
        paused = await hold_pause_state(db, handoff.workflow) is not None
    status = OUTCOME_STATUS[decision.outcome]
    if not await repo.claim_pending_handoff(
        db, handoff_id, status, now, reviewer=decision.reviewer, outcome=decision.outcome
    ):
        raise await _not_claimed(db, handoff=handoff, policy=policy, now=now)
    final_text = decision.final_text if decision.outcome == "edited" else None
    if decision.outcome == "approved":
        final_text = handoff.draft
    row = Decision(
        handoff_id=handoff_id,
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
        released_at=None if paused else now,
        approval_digest=approval_digest(
            action=handoff.action, final_text=final_text, payload=handoff.payload
        )
        if decision.outcome in APPROVING_OUTCOMES
        else None,
        approvers=approvers,
    )
    repo.create_decision(db, row)
    await db.flush()
    await record_step(
        db,
        run_id=handoff.run_id,
        workflow=handoff.workflow,
        type="decision",
        name=decision.outcome,
        status="held" if paused else decision.outcome,
        output={"handoff_id": handoff_id, "shadow": handoff.shadow, **decision_json(row)},
        now=now,
    )
    if decision.outcome == "taken_over":
        await _mark_run_handed_over(db, handoff)
    await refresh_message(db, handoff=handoff, reason="decided", now=now)
    if handoff.channel is not None:
        await outbox.post_message(
            db,
            key=f"handoff:{handoff_id}:decision-reply",
            channel=handoff.channel,
            render=DECISION_REPLY_RENDER,
            ref=handoff_id,
            thread_of=post_key(handoff_id),
            ordering_key=post_key(handoff_id),
            workflow=handoff.workflow,
            now=now,
        )
    await queue_outcome_webhook(db, handoff=handoff, policy=policy, held=paused, now=now)
    await append_decision_entry(db, decision=row, workflow=handoff.workflow)
    return row


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
