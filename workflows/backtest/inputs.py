"""What the gate records beside its verdict so that a later brief can re-decide the question.

The policy reads the action, the confidence and the draft and summary texts (for stop
topics); the payload it never reads, so only its shape is kept, for the reader of a report.
Texts are kept as redacted, like everything else stored: a stop topic of today's brief is
matched on the texts as sent and recorded by name, per text, so a topic that sat inside a
redacted secret stays found; a topic a later brief adds can only be looked for in the
redacted texts. Stored in the gate step's ``input`` (``events.input``), so nothing new
has to be migrated and the inputs go wherever the run goes (retention, erasure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.config.brief import WorkflowConfig
from workflows.policy import GateQuestion, matched_stop_topics

#: Marks a gate step's input as written by this module (a version for future changes).
INPUTS_VERSION = 1

#: How deep and wide a payload's shape is described; deeper parts are named ``"..."``.
SHAPE_DEPTH = 3
SHAPE_KEYS = 50


def payload_shape(value: Any, depth: int = 0) -> Any:
    """The payload's keys and value types without its values (``{"to": "str"}``)."""
    if depth >= SHAPE_DEPTH:
        return "..."
    if isinstance(value, dict):
        keys = sorted(value)[:SHAPE_KEYS]
        return {str(key): payload_shape(value[key], depth + 1) for key in keys}
    if isinstance(value, list):
        return [payload_shape(value[0], depth + 1)] if value else []
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "str"


def gate_inputs(
    policy: WorkflowConfig,
    question: GateQuestion,
    *,
    draft: str | None,
    summary: str | None,
    payload: Any,
) -> dict[str, Any]:
    """The gate step's ``input``: the question as the policy saw it, with redacted texts."""
    return {
        "inputs": INPUTS_VERSION,
        "action": question.action,
        "confidence": question.confidence,
        "threshold": policy.confidence_threshold,
        "draft": draft,
        "summary": summary,
        "stop_topics": {
            "draft": matched_stop_topics(policy, question.draft),
            "summary": matched_stop_topics(policy, question.summary),
        },
        "payload_shape": payload_shape(payload),
    }


@dataclass(slots=True, kw_only=True)
class RecordedQuestion:
    """One gate question as the store holds it, whatever Handrail version asked it.

    ``complete`` is False for questions recorded before the gate kept its inputs: those are
    rebuilt from the verdict and, when it opened one, the handoff; what is missing is None.
    Not frozen: a backtest builds a million of these, and a frozen dataclass's
    ``__init__`` costs several times more.
    """

    run_id: str
    workflow: str
    action: str
    verdict: str
    paused: bool
    recorded_at: Any
    confidence: float | None
    confidence_known: bool
    draft: str | None
    summary: str | None
    topics_found: tuple[str, ...] = field(default=())
    complete: bool = True


def read_recorded(
    *,
    run_id: str,
    workflow: str,
    action: str,
    verdict: str,
    output: Any,
    inputs: Any,
    recorded_at: Any,
    handoff: dict[str, Any] | None,
) -> RecordedQuestion:
    """Rebuild the question from a gate step (and the handoff it opened, for older steps)."""
    paused = bool(output.get("paused")) if isinstance(output, dict) else False
    if isinstance(inputs, dict) and inputs.get("inputs") == INPUTS_VERSION:
        topics = inputs.get("stop_topics") or {}
        found = [*topics.get("draft", ()), *topics.get("summary", ())]
        return RecordedQuestion(
            run_id=run_id,
            workflow=workflow,
            action=str(inputs.get("action", action)),
            verdict=verdict,
            paused=paused,
            recorded_at=recorded_at,
            confidence=inputs.get("confidence"),
            confidence_known=True,
            draft=inputs.get("draft"),
            summary=inputs.get("summary"),
            topics_found=tuple(found),
        )
    handoff = handoff or {}
    stop_topic = handoff.get("stop_topic")
    return RecordedQuestion(
        run_id=run_id,
        workflow=workflow,
        action=str(handoff.get("action") or action),
        verdict=verdict,
        paused=paused,
        recorded_at=recorded_at,
        confidence=handoff.get("confidence"),
        confidence_known=bool(handoff),
        draft=handoff.get("draft"),
        summary=handoff.get("summary"),
        topics_found=(stop_topic,) if stop_topic else (),
        complete=False,
    )
