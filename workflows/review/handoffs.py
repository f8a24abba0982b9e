"""Handoffs: cases put in front of a person, and what a person sees of them.

Opening a handoff writes the handoff, a step in the run's trace and the Slack post in one
transaction (the post through the outbox), so a handoff never exists without its message
being on its way, nor a message without its handoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff
from store.repositories import handoffs as repo
from store.repositories import workflows as workflow_rows
from workflows.audit.entries import append_expiry_entry
from workflows.config.brief import HandrailConfig, WorkflowConfig
from workflows.delivery import outbox
from workflows.delivery.callbacks import queue_outcome_webhook
from workflows.errors import NotFound
from workflows.identifiers import new_id
from workflows.ledger.runs import (
    SHORT_TEXT,
    Step,
    find_server_step,
    get_run_of,
    record_step,
    record_steps,
    server_key,
)
from workflows.ledger.views import (
    DRAFT_PARTS_MAX,
    EDIT_BOX_MAX,
    DecisionView,
    HandoffView,
    QuorumView,
    draft_parts,
)
from workflows.pause.state import ALL_WORKFLOWS, hold_pause_state, pause_state, refuse_if_paused
from workflows.redaction import fit
from workflows.review.handoff_keys import post_key
from workflows.review.rules import opening_state

HANDOFF_RENDER = "handoff"
DECISION_REPLY_RENDER = "decision_reply"
DRAFT_PART_RENDER = "handoff_draft_part"


def draft_part_ref(handoff_id: str, number: int) -> str:
    """The outbox ``ref`` of part ``number`` (from 1) of a handoff's draft in its thread."""
    return f"{handoff_id}:{number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffRequest:
    kind: str
    summary: str
    id: str | None = None
    """Chosen by the caller when it must name the handoff before opening it (the gate)."""
    action: str | None = None
    draft: str | None = None
    confidence: float | None = None
    stop_topic: str | None = None
    tool: str | None = None
    error: str | None = None
    last_step: str | None = None
    context: Any = None
    payload: Any = None
    request_id: str | None = None
    reasons: tuple[str, ...] | None = None
    """Why a person is asked, one line each, as the gate gave them; ``None`` to derive them."""
    shadow: bool = False
    """Posted for comparison only: the automation will not act on the decision."""


async def open_handoff(
    db: AsyncSession,
    *,
    workflow: str,
    policy: WorkflowConfig,
    run_id: str,
    request: HandoffRequest,
    now: datetime,
    steps_before: Sequence[Step] = (),
) -> Handoff:
    """Record the handoff, note it in the trace, and queue its message for the reviewers.

    With a ``request_id`` a repeated request returns the handoff the first one opened.
    ``steps_before`` go in the trace just before the handoff's own step, in the same
    write (the gate's verdict that opened it).
    """
    key = server_key("handoff", request.request_id)
    if key is not None:
        earlier = await find_server_step(db, run_id=run_id, key=key, type="handoff")
        if earlier is not None:
            if steps_before:
                await record_steps(
                    db, run_id=run_id, workflow=workflow, steps=steps_before, now=now
                )
            return await get_handoff_of(db, handoff_id=earlier["handoff_id"], workflow=workflow)
    handoff = Handoff(
        **handoff_values(request, workflow=workflow, policy=policy, run_id=run_id, now=now)
    )
    repo.create_handoff(db, handoff)
    await db.flush()
    await record_steps(
        db,
        run_id=run_id,
        workflow=workflow,
        steps=[*steps_before, handoff_step(handoff.id, request, key=key)],
        now=now,
    )
    for row in handoff_posts(
        handoff.id, handoff.channel, handoff.draft, workflow=workflow, now=now
    ):
        await outbox.enqueue_rows(db, [row])
    return handoff


def handoff_values(
    request: HandoffRequest, *, workflow: str, policy: WorkflowConfig, run_id: str, now: datetime
) -> dict[str, Any]:
    """The new handoff's columns, as every writer stores them (the ORM or the driver)."""
    return {
        "id": request.id or new_id("hof"),
        "run_id": run_id,
        "workflow": workflow,
        "kind": request.kind,
        "status": "pending",
        "action": request.action,
        "summary": request.summary,
        "draft": request.draft,
        "confidence": request.confidence,
        "threshold": policy.confidence_threshold,
        "stop_topic": request.stop_topic,
        # Redacted by the caller, so a placeholder may have made it longer than its column.
        "tool": fit(request.tool, SHORT_TEXT) if request.tool is not None else None,
        "error": request.error,
        "last_step": request.last_step,
        "context": request.context,
        "payload": request.payload,
        "reasons": list(request.reasons) if request.reasons is not None else None,
        "shadow": request.shadow,
        "channel": policy.review_channel,
        "created_at": now,
        "expires_at": now + policy.review_timeout,
        "quorum_round": 0,
        "quorum": opening_state(
            policy, kind=request.kind, action=request.action, shadow=request.shadow
        ),
    }


def handoff_step(handoff_id: str, request: HandoffRequest, *, key: str | None) -> Step:
    """The trace step that notes the handoff in its run."""
    return Step(
        type="handoff",
        name=request.kind,
        status="pending",
        output={"handoff_id": handoff_id, "summary": request.summary},
        server_key=key,
    )


def handoff_posts(
    handoff_id: str, channel: str | None, draft: str | None, *, workflow: str, now: datetime
) -> list[dict[str, Any]]:
    """The outbox rows that show a new handoff to its reviewers: its message and, for a
    draft too long for the message and its Edit box, the draft in parts in its thread.

    The parts share the message's ordering key, so they follow the message, in order, and
    a later update or decision reply never overtakes them.
    """
    if channel is None:
        return []
    rows = [
        outbox.post_row(
            key=post_key(handoff_id),
            channel=channel,
            render=HANDOFF_RENDER,
            ref=handoff_id,
            workflow=workflow,
            now=now,
        )
    ]
    if draft is None or len(draft) <= EDIT_BOX_MAX:
        return rows
    count = min(len(draft_parts(draft)), DRAFT_PARTS_MAX)
    for number in range(1, count + 1):
        rows.append(
            outbox.post_row(
                key=f"handoff:{handoff_id}:draft:{number}",
                channel=channel,
                render=DRAFT_PART_RENDER,
                ref=draft_part_ref(handoff_id, number),
                thread_of=post_key(handoff_id),
                ordering_key=post_key(handoff_id),
                workflow=workflow,
                now=now,
            )
        )
    return rows


async def request_handoff(
    db: AsyncSession,
    *,
    workflow: str,
    policy: WorkflowConfig,
    run_id: str,
    request: HandoffRequest,
    now: datetime,
) -> Handoff:
    """An automation hands a case to a person: its run must exist and the workflow run."""
    await get_run_of(db, workflow=workflow, run_id=run_id, for_update=True)
    await refuse_if_paused(db, workflow, until_resumed="no new handoffs until an admin resumes it")
    return await open_handoff(
        db, workflow=workflow, policy=policy, run_id=run_id, request=request, now=now
    )


async def get_handoff_of(db: AsyncSession, *, handoff_id: str, workflow: str | None) -> Handoff:
    """The handoff; with ``workflow`` given, another workflow's handoff is not found."""
    handoff = await repo.get_handoff(db, handoff_id)
    if handoff is None or (workflow is not None and handoff.workflow != workflow):
        raise NotFound(
            f"no handoff '{handoff_id}'; it may have been removed with its run",
            details=[{"loc": "handoff_id"}],
        )
    return handoff


def decision_view(decision: Decision) -> DecisionView:
    return DecisionView(
        outcome=decision.outcome,
        reviewer=decision.reviewer,
        decided_at=decision.decided_at,
        final_text=decision.final_text,
        diff=decision.diff,
        reason=decision.reason,
        category=decision.category,
        latency_ms=decision.latency_ms,
        approvers=tuple(decision.approvers or ()),
    )


def quorum_view(state: Any, *, round: int = 0) -> QuorumView | None:
    """The handoff's ``quorum`` column as the message shows it."""
    if not isinstance(state, dict):
        return None
    return QuorumView(
        required=int(state.get("required") or 1),
        from_groups=tuple(state.get("from") or ()),
        approvers=tuple(state.get("approvers") or ()),
        needed=int(state.get("needed") or 0),
        missing_from=tuple(state.get("missing_from") or ()),
        edited=bool(state.get("edited")),
        round=round,
    )


async def load_handoff_view(db: AsyncSession, handoff_id: str) -> HandoffView:
    """What a reviewer sees of a handoff now: its state, its decision, any pause banner."""
    handoff = await get_handoff_of(db, handoff_id=handoff_id, workflow=None)
    decision = await repo.get_decision(db, handoff_id)
    paused = await pause_state(db, handoff.workflow) if handoff.status == "pending" else None
    return HandoffView(
        id=handoff.id,
        workflow=handoff.workflow,
        run_id=handoff.run_id,
        kind=handoff.kind,
        status=handoff.status,
        summary=handoff.summary,
        action=handoff.action,
        # While pending, the text approvals are of: a quorum's last edit, else the draft.
        draft=handoff.quorum_text
        if handoff.quorum_text is not None and handoff.status == "pending"
        else handoff.draft,
        confidence=handoff.confidence,
        threshold=handoff.threshold,
        stop_topic=handoff.stop_topic,
        tool=handoff.tool,
        error=handoff.error,
        last_step=handoff.last_step,
        created_at=handoff.created_at,
        paused=paused,
        decision=decision_view(decision) if decision else None,
        expired_at=handoff.decided_at if handoff.status == "expired" else None,
        gate_reasons=tuple(handoff.reasons) if handoff.reasons is not None else None,
        shadow=handoff.shadow,
        quorum=quorum_view(handoff.quorum, round=handoff.quorum_round),
    )


async def load_draft_part(db: AsyncSession, ref: str) -> tuple[HandoffView, int]:
    """The handoff and the part number a ``draft_part_ref`` names; ``NotFound`` if neither."""
    handoff_id, _, number = ref.rpartition(":")
    view = await load_handoff_view(db, handoff_id)
    count = min(len(draft_parts(view.draft or "")), DRAFT_PARTS_MAX)
    if not number.isdigit() or not 1 <= int(number) <= count:
        raise NotFound(
            f"handoff '{handoff_id}' has no draft part '{number}' (it has {count})",
            details=[{"loc": "ref"}],
        )
    return view, int(number)


async def refresh_message(
    db: AsyncSession, *, handoff: Handoff, reason: str, now: datetime
) -> None:
    """Queue an in-place update of the handoff's message (decided, expired, paused…)."""
    row = message_refresh_row(handoff=handoff, reason=reason, now=now)
    if row is not None:
        await outbox.enqueue_rows(db, [row])


def message_refresh_row(*, handoff: Handoff, reason: str, now: datetime) -> dict[str, Any] | None:
    """The outbox row of ``refresh_message``; None when the handoff has no message."""
    if handoff.channel is None:
        return None
    return outbox.update_row(
        key=f"handoff:{handoff.id}:update:{reason}",
        message_key=post_key(handoff.id),
        render=HANDOFF_RENDER,
        ref=handoff.id,
        workflow=handoff.workflow,
        now=now,
    )


async def expire_overdue(
    db: AsyncSession, *, config: HandrailConfig, now: datetime
) -> Sequence[Handoff]:
    """Expire handoffs past their review timeout. Expiry is never approval.

    The pause switches are held first (see ``hold_pause_state``), before any handoff row,
    as a decision holds them: an expiry webhook written as held is then always released.
    """
    await workflow_rows.read_pause_switches(db, [*config.workflows, ALL_WORKFLOWS], lock="share")
    expired = await repo.expire_overdue_handoffs(db, now)
    for handoff in expired:
        await _note_expiry(
            db, handoff=handoff, policy=config.workflows.get(handoff.workflow), now=now, audit=False
        )
    # Last, once per handoff: the audit chain's lock is then taken after every run row this
    # transaction writes, as a decision takes it, so neither waits on the other in a circle.
    for handoff in expired:
        await append_expiry_entry(db, handoff=handoff, now=now)
    return expired


async def expire_if_overdue(
    db: AsyncSession, *, handoff_id: str, policy: WorkflowConfig, now: datetime
) -> Handoff | None:
    """Expire this one handoff if it is still pending past its timeout; None if it is not.

    For a click that came after the timeout but before the expiry job: the handoff ends
    as expired there and then, with its message updated and the automation told.
    """
    handoff = await repo.expire_overdue_handoff(db, handoff_id, now)
    if handoff is not None:
        await _note_expiry(db, handoff=handoff, policy=policy, now=now)
    return handoff


async def _note_expiry(
    db: AsyncSession,
    *,
    handoff: Handoff,
    policy: WorkflowConfig | None,
    now: datetime,
    audit: bool = True,
) -> None:
    """Everything an expiry causes: its trace step, the updated message, the webhook and
    (unless the caller appends it later, ``audit=False``) its audit entry."""
    await record_step(
        db,
        run_id=handoff.run_id,
        workflow=handoff.workflow,
        type="handoff",
        name="expired",
        status="expired",
        output={"handoff_id": handoff.id, "note": "no decision in time; not approved"},
        now=now,
    )
    await refresh_message(db, handoff=handoff, reason="expired", now=now)
    await queue_outcome_webhook(
        db,
        handoff=handoff,
        policy=policy,
        held=await hold_pause_state(db, handoff.workflow) is not None,
        now=now,
    )
    if audit:
        await append_expiry_entry(db, handoff=handoff, now=now)
