"""The gate: an automation asks before it acts, and the policy answers.

Every verdict is a step in the run's trace; a ``review`` or ``shadow`` verdict opens a
handoff in the same transaction. The policy reads the question as the automation sent it
(a stop topic inside text that redaction removes is still a stop topic); only the
redacted texts are ever stored. The verdict step keeps what the policy read, redacted
(``workflows.backtest.inputs``), so a proposed brief can be backtested against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from workflows.backtest.inputs import gate_inputs
from workflows.config.brief import WorkflowConfig
from workflows.errors import Conflict
from workflows.identifiers import new_id
from workflows.ledger.runs import (
    OPEN_STATUSES,
    Step,
    find_server_step,
    get_run_of,
    record_steps,
    server_key,
)
from workflows.pause.state import pause_state
from workflows.policy import GateQuestion, evaluate
from workflows.review.handoffs import HandoffRequest, open_handoff


@dataclass(frozen=True, slots=True, kw_only=True)
class RedactedCase:
    """The question's texts with secrets and personal data removed: all that is kept."""

    draft: str | None
    summary: str | None
    payload: Any


@dataclass(frozen=True, slots=True)
class GateAnswer:
    verdict: str
    reason: str
    handoff_id: str | None
    paused: bool = False


async def ask_gate(
    db: AsyncSession,
    *,
    workflow: str,
    policy: WorkflowConfig,
    run_id: str,
    question: GateQuestion,
    redacted: RedactedCase,
    now: datetime,
    request_id: str | None = None,
) -> GateAnswer:
    """Apply the policy, record the verdict in the trace, open a handoff if a person must look.

    ``question`` holds the texts as sent, for the policy alone; the handoff is opened with
    ``redacted``, so unredacted text never reaches the database or Slack. With
    ``request_id`` a repeated question (a client retry) gets the first answer back instead
    of opening a second handoff.
    """
    run = await get_run_of(db, workflow=workflow, run_id=run_id, for_update=True)
    key = server_key("gate", request_id)
    if key is not None:
        earlier = await find_server_step(db, run_id=run_id, key=key, type="gate")
        if earlier is not None:
            return GateAnswer(
                verdict=earlier["verdict"],
                reason=earlier["reason"],
                handoff_id=earlier.get("handoff_id"),
                paused=bool(earlier.get("paused")),
            )
    if run.status not in OPEN_STATUSES:
        raise Conflict(
            f"run '{run_id}' is finished ({run.status}); a finished run cannot act",
            details=[{"loc": "run_id", "status": run.status}],
        )
    paused = await pause_state(db, workflow)
    decision = evaluate(policy, question, workflow=workflow, paused=paused)
    # The verdict is recorded before the handoff it opens, so the trace reads in order.
    handoff_id = new_id("hof") if decision.handoff_kind is not None else None
    verdict = Step(
        type="gate",
        name=question.action,
        status=decision.verdict,
        output={
            "verdict": decision.verdict,
            "reason": decision.reason,
            "handoff_id": handoff_id,
            "paused": paused is not None,
        },
        server_key=key,
        input=gate_inputs(
            policy,
            question,
            draft=redacted.draft,
            summary=redacted.summary,
            payload=redacted.payload,
        ),
    )
    if decision.handoff_kind is None:
        await record_steps(db, run_id=run_id, workflow=workflow, steps=[verdict], now=now)
    else:
        await open_handoff(
            db,
            workflow=workflow,
            policy=policy,
            run_id=run_id,
            request=HandoffRequest(
                id=handoff_id,
                kind=decision.handoff_kind,
                summary=redacted.summary or f"{question.action} needs a look",
                action=question.action,
                draft=redacted.draft,
                confidence=question.confidence,
                stop_topic=decision.stop_topic,
                payload=redacted.payload,
                reasons=decision.reasons,
                shadow=decision.verdict == "shadow",
            ),
            now=now,
            steps_before=[verdict],
        )
    return GateAnswer(
        verdict=decision.verdict,
        reason=decision.reason,
        handoff_id=handoff_id,
        paused=paused is not None,
    )
