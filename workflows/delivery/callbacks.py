"""What an automation is told about a handoff's outcome, by long-poll or by webhook.

The webhook to a workflow's ``callback_url`` is queued in the transaction that ends the
handoff (a decision or its expiry), under one key per handoff, so the automation is told
once whichever way it ended. The row names the handoff, not a body: the outbox worker
builds the body when it sends it, from the handoff and decision as they stand. A decision
held while its workflow was paused is therefore pushed as the decision itself once the
pause is lifted, never as the "held" it was when queued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff
from store.repositories import handoffs as repo
from workflows.config.brief import WorkflowConfig
from workflows.delivery import outbox
from workflows.ledger.story import decision_json
from workflows.review.handoff_keys import webhook_key

#: Statuses the automation must not act on yet: nothing is pushed while a handoff has one.
WAITING = frozenset({"pending", "held"})


def delivery_json(handoff: Handoff, decision: Decision | None) -> dict[str, Any]:
    """What the automation receives, by long-poll or webhook: the outcome and what to use.

    ``shadow`` is true for a case posted only for comparison: whatever its status says,
    it is never permission to act. ``draft`` is the draft as stored (redacted), so a client
    can put back the values a reviewer's edit kept, whichever way it was told.
    """
    released = decision is not None and decision.released_at is not None
    status = handoff.status if released or decision is None else "held"
    return {
        "handoff_id": handoff.id,
        "run_id": handoff.run_id,
        "workflow": handoff.workflow,
        "kind": handoff.kind,
        "status": status,
        "shadow": handoff.shadow,
        "decision": decision_json(decision) if decision is not None and released else None,
        "draft": handoff.draft,
    }


async def load_delivery(db: AsyncSession, handoff_id: str) -> dict[str, Any] | None:
    """The body of the handoff's webhook now; None when the handoff no longer exists."""
    handoff = await repo.get_handoff(db, handoff_id)
    if handoff is None:
        return None
    return delivery_json(handoff, await repo.get_decision(db, handoff_id))


async def queue_outcome_webhook(
    db: AsyncSession,
    *,
    handoff: Handoff,
    policy: WorkflowConfig | None,
    held: bool,
    now: datetime,
) -> None:
    """Queue the webhook telling the automation how ``handoff`` ended, if it has a callback.

    ``held`` (the workflow is paused) keeps it in the outbox until the workflow resumes.
    """
    row = outcome_webhook_row(handoff=handoff, policy=policy, held=held, now=now)
    if row is not None:
        await outbox.enqueue_rows(db, [row])


def outcome_webhook_row(
    *, handoff: Handoff, policy: WorkflowConfig | None, held: bool, now: datetime
) -> dict[str, Any] | None:
    """The outbox row of ``queue_outcome_webhook``; None without a callback URL."""
    if policy is None or policy.callback_url is None:
        return None
    key = webhook_key(handoff.id)
    return outbox.delivery_row(
        kind=outbox.WEBHOOK,
        dedupe_key=key,
        payload={
            "url": str(policy.callback_url),
            "workflow": handoff.workflow,
            "handoff_id": handoff.id,
            "idempotency_key": key,
        },
        workflow=handoff.workflow,
        held=held,
        now=now,
    )
