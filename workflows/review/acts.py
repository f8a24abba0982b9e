"""The automation says it is acting on an approval, with the digest it was given, once.

An approval is bound to what was approved (``workflows.review.approval``): the act names that
digest, and is refused when it names another, when there is no approval to act on
(pending, expired, rejected, taken over, a shadow case), while the decision is held by a
pause, and when the approval was acted on already. Every refusal is recorded as an
``error`` step of the run, worded the same for the same reason so the repeated-error
alert groups them (``workflows.fingerprint``), in a transaction of its own, since the
refused request's own transaction is rolled back. The act itself is recorded as a step
of the run and appended to the audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff
from store.repositories import acts as act_rows
from store.repositories import handoffs as handoff_rows
from workflows.audit.entries import append_act_entry
from workflows.errors import Conflict, HandrailError, InvalidInput, Paused
from workflows.ledger.runs import record_step
from workflows.review.approval import APPROVING_OUTCOMES
from workflows.review.handoffs import get_handoff_of

#: The name of an act's step and of a refused act's incident step.
ACTED_STEP = "acted"
REFUSED_STEP = "act refused"

#: A refused act's error text, by reason: the same words every time, so they group.
REFUSAL_TEXT = {
    "digest_mismatch": "acted with a different text, action or payload than was approved",
    "already_acted": "the approval was acted on already; an approval is used once",
    "held": "the approval is held while the workflow is paused",
    "expired": "the handoff expired without a decision; expiry is never approval",
    "not_decided": "no decision yet; there is no approval to act on",
    "not_approved": "the handoff was not approved",
    "shadow": "a shadow case is never approval to act",
    "no_digest": "the approval was recorded before approvals carried a digest",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an act was refused: the API error, and what the incident step records."""

    error: HandrailError
    reason: str
    """A stable code (``digest_mismatch``, ``already_acted``…) for the step and alert."""
    handoff_id: str
    run_id: str
    workflow: str


class ActRefused(Exception):
    """Raised by :func:`act_on_approval`; the caller records it, then raises ``error``."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.error.message)
        self.refusal = refusal


async def act_on_approval(
    db: AsyncSession,
    *,
    handoff_id: str,
    workflow: str,
    digest: str,
    actor: str,
    now: datetime,
) -> Decision:
    """Record that the automation acts on the approval of ``handoff_id`` with ``digest``."""
    handoff = await get_handoff_of(db, handoff_id=handoff_id, workflow=workflow)
    decision = await handoff_rows.get_decision(db, handoff_id)
    _check_actable(handoff, decision, digest)
    assert decision is not None  # _check_actable refuses a handoff without one
    if not await act_rows.mark_decision_acted(
        db, handoff_id=handoff_id, approval_digest=digest, now=now
    ):
        await db.refresh(decision)
        raise _already_acted(handoff, decision)
    await db.refresh(decision)
    await record_step(
        db,
        run_id=handoff.run_id,
        workflow=handoff.workflow,
        type="handoff",
        name=ACTED_STEP,
        status="acted",
        output={
            "handoff_id": handoff_id,
            "approval_digest": digest,
            "by": actor,
            "summary": f"approved by {decision.reviewer} at {decision.decided_at:%H:%M:%S} UTC, "
            f"acted at {now:%H:%M:%S} UTC with the approved text",
        },
        now=now,
        server_key=f"act:{handoff_id}",
    )
    await append_act_entry(db, decision=decision, workflow=handoff.workflow, actor=actor, now=now)
    return decision


def _refuse(handoff: Handoff, error: HandrailError, reason: str) -> ActRefused:
    return ActRefused(
        Refusal(
            error=error,
            reason=reason,
            handoff_id=handoff.id,
            run_id=handoff.run_id,
            workflow=handoff.workflow,
        )
    )


def _check_actable(handoff: Handoff, decision: Decision | None, digest: str) -> None:
    where = [{"loc": "handoff_id", "status": handoff.status}]
    if handoff.shadow:
        raise _refuse(
            handoff,
            Conflict("a shadow case is never approval to act; nothing was recorded", details=where),
            "shadow",
        )
    if decision is None:
        state = "expired without a decision" if handoff.status == "expired" else handoff.status
        raise _refuse(
            handoff,
            Conflict(f"this handoff is {state}: there is no approval to act on", details=where),
            "expired" if handoff.status == "expired" else "not_decided",
        )
    if decision.outcome not in APPROVING_OUTCOMES:
        outcome = decision.outcome.replace("_", " ")
        raise _refuse(
            handoff,
            Conflict(f"this handoff was {outcome}: there is no approval to act on", details=where),
            "not_approved",
        )
    if decision.released_at is None:
        raise _refuse(
            handoff,
            Paused(
                "this decision is held while its workflow is paused; act after an admin resumes",
                details=[{"loc": "handoff_id", "status": "held"}],
            ),
            "held",
        )
    if decision.approval_digest is None:
        raise _refuse(
            handoff,
            Conflict(
                "this approval was recorded before approvals carried a digest; it cannot be "
                "acted on through this endpoint",
                details=where,
            ),
            "no_digest",
        )
    if digest != decision.approval_digest:
        raise _refuse(
            handoff,
            InvalidInput(
                "approval_digest does not match what was approved: the action, text or "
                "payload differs; nothing was recorded",
                details=[{"loc": "approval_digest"}],
            ),
            "digest_mismatch",
        )
    if decision.acted_at is not None:
        raise _already_acted(handoff, decision)


def _already_acted(handoff: Handoff, decision: Decision) -> ActRefused:
    when = f" at {decision.acted_at:%H:%M:%S} UTC" if decision.acted_at else ""
    return _refuse(
        handoff,
        Conflict(
            f"this approval was acted on already{when}; an approval is used once",
            details=[{"loc": "approval_digest", "status": "acted"}],
        ),
        "already_acted",
    )


async def record_refused_act(
    db: AsyncSession, *, refusal: Refusal, digest: str, now: datetime
) -> None:
    """The incident step of a refused act; its error text is the same for the same reason."""
    await record_step(
        db,
        run_id=refusal.run_id,
        workflow=refusal.workflow,
        type="error",
        name=REFUSED_STEP,
        status=refusal.reason,
        output={
            "handoff_id": refusal.handoff_id,
            "reason": refusal.reason,
            "message": refusal.error.message,
            "approval_digest": digest,
        },
        error=f"act on an approval refused: {REFUSAL_TEXT[refusal.reason]}",
        now=now,
    )
