"""The gate: an automation asks before it acts, and the policy answers.

Every verdict is a step in the run's trace; a ``review`` or ``shadow`` verdict opens a
handoff in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from workflows.config import WorkflowConfig
from workflows.errors import Conflict
from workflows.handoffs import HandoffRequest, open_handoff
from workflows.pausing import pause_state
from workflows.policy import GateQuestion, evaluate
from workflows.runs import OPEN_STATUSES, get_run_of, record_step


@dataclass(frozen=True, slots=True)
class GateAnswer:
    verdict: str
    reason: str
    handoff_id: str | None


async def ask_gate(
    db: AsyncSession,
    *,
    workflow: str,
    policy: WorkflowConfig,
    run_id: str,
    question: GateQuestion,
    payload: Any,
    now: datetime,
) -> GateAnswer:
    """Apply the policy, record the verdict in the trace, open a handoff if a person must look."""
    run = await get_run_of(db, workflow=workflow, run_id=run_id)
    if run.status not in OPEN_STATUSES:
        raise Conflict(
            f"run '{run_id}' is finished ({run.status}); a finished run cannot act",
            details=[{"loc": "run_id", "status": run.status}],
        )
    decision = evaluate(policy, question, workflow=workflow, paused=await pause_state(db, workflow))
    handoff_id = None
    if decision.handoff_kind is not None:
        handoff = await open_handoff(
            db,
            workflow=workflow,
            policy=policy,
            run_id=run_id,
            request=HandoffRequest(
                kind=decision.handoff_kind,
                summary=question.summary or f"{question.action} needs a look",
                action=question.action,
                draft=question.draft,
                confidence=question.confidence,
                stop_topic=decision.stop_topic,
                payload=payload,
            ),
            now=now,
        )
        handoff_id = handoff.id
    await record_step(
        db,
        run_id=run_id,
        workflow=workflow,
        type="gate",
        name=question.action,
        status=decision.verdict,
        output={"verdict": decision.verdict, "reason": decision.reason, "handoff_id": handoff_id},
        now=now,
    )
    return GateAnswer(verdict=decision.verdict, reason=decision.reason, handoff_id=handoff_id)
