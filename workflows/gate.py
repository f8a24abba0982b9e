"""The gate: an automation asks before it acts, and the policy answers.

Every verdict is a step in the run's trace; a ``review`` or ``shadow`` verdict opens a
handoff in the same transaction. The policy reads the question as the automation sent it
(a stop topic inside text that redaction removes is still a stop topic); only the
redacted texts are ever stored. The verdict step keeps what the policy read, redacted
(``workflows.backtest.inputs``), so a proposed brief can be backtested against it.

The transaction is sent at the database driver (``store.gate_writes``): this module
decides, from what it reads there, which rows to write; the rows are the ones
``workflows.handoffs.open_handoff`` writes through the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from store.gate_writes import GateRead, GateWrite, gate_transaction
from workflows.backtest.inputs import gate_inputs
from workflows.config.brief import WorkflowConfig
from workflows.errors import Conflict, HandrailError, NotFound
from workflows.identifiers import new_id
from workflows.ledger.runs import OPEN_STATUSES, Step, server_key, step_row
from workflows.pause.state import ALL_WORKFLOWS, pause_in_force
from workflows.policy import GateQuestion, evaluate
from workflows.review.handoffs import HandoffRequest, handoff_posts, handoff_step, handoff_values


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
    engine: AsyncEngine,
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
    of opening a second handoff. The run is held (PostgreSQL) or the write lock taken
    (SQLite) before anything is read, so two requests on one run take turns.
    """
    key = server_key("gate", request_id)
    outcome: list[GateAnswer | HandrailError] = []

    def decide(read: GateRead) -> GateWrite | None:
        answer_or_rows = _decide(
            read,
            workflow=workflow,
            policy=policy,
            run_id=run_id,
            question=question,
            redacted=redacted,
            key=key,
            now=now,
        )
        if isinstance(answer_or_rows, GateAnswer | HandrailError):
            outcome.append(answer_or_rows)
            return None
        answer, rows = answer_or_rows
        outcome.append(answer)
        return rows

    await gate_transaction(
        engine, run_id=run_id, workflow=workflow, every=ALL_WORKFLOWS, key=key, decide=decide
    )
    [result] = outcome
    if isinstance(result, HandrailError):
        raise result
    return result


def _decide(
    read: GateRead,
    *,
    workflow: str,
    policy: WorkflowConfig,
    run_id: str,
    question: GateQuestion,
    redacted: RedactedCase,
    key: str | None,
    now: datetime,
) -> GateAnswer | HandrailError | tuple[GateAnswer, GateWrite]:
    """The answer, and the rows that record it; an earlier answer or a refusal alone."""
    if read.run_status is None:
        return NotFound(f"no run '{run_id}' in workflow '{workflow}'", details=[{"loc": "run_id"}])
    if read.earlier is not None:
        return GateAnswer(
            verdict=read.earlier["verdict"],
            reason=read.earlier["reason"],
            handoff_id=read.earlier.get("handoff_id"),
            paused=bool(read.earlier.get("paused")),
        )
    if read.run_status not in OPEN_STATUSES:
        return Conflict(
            f"run '{run_id}' is finished ({read.run_status}); a finished run cannot act",
            details=[{"loc": "run_id", "status": read.run_status}],
        )
    paused = pause_in_force(read.switches, workflow)
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
    answer = GateAnswer(
        verdict=decision.verdict,
        reason=decision.reason,
        handoff_id=handoff_id,
        paused=paused is not None,
    )
    if decision.handoff_kind is None or handoff_id is None:
        return answer, GateWrite(steps=[step_row(verdict, now=now)])
    request = HandoffRequest(
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
    )
    handoff = handoff_values(request, workflow=workflow, policy=policy, run_id=run_id, now=now)
    return answer, GateWrite(
        steps=[
            step_row(verdict, now=now),
            step_row(handoff_step(handoff_id, request, key=None), now=now),
        ],
        handoff=handoff,
        outbox=handoff_posts(
            handoff_id, handoff["channel"], handoff["draft"], workflow=workflow, now=now
        ),
    )
