"""Re-decide one recorded gate question under another brief. Pure: no I/O.

The rules are the policy's own (``workflows.policy.decide``); only where the inputs come
from differs. A recorded pause stays a pause (a pause is not part of the brief). A stop
topic counts when the proposed brief still names a topic the gate found in the texts as
sent, or when one of its topics occurs in the texts as kept (redacted).

Questions recorded before the gate kept its inputs are replayed on what was stored: the
handoff they opened holds the confidence and texts. One that opened none left no
confidence: if it was allowed, it cleared the threshold of its day and is assumed to clear
the proposed one too; if it was denied, the confidence counts as missing.
"""

from __future__ import annotations

from workflows.backtest.inputs import RecordedQuestion
from workflows.config import WorkflowConfig
from workflows.policy import GateQuestion, PauseState, Verdict, decide, find_stop_topic

#: Stands in for the pause a question was asked under; its words are never shown.
_RECORDED_PAUSE = PauseState(paused_by="(recorded)", reason=None)


def stop_topic_under(policy: WorkflowConfig, question: RecordedQuestion) -> str | None:
    """The stop topic the proposed ``policy`` would have stopped ``question`` on, if any."""
    named = {topic.lower(): topic for topic in policy.stop_topics}
    for found in question.topics_found:
        if found.lower() in named:
            return named[found.lower()]
    return find_stop_topic(policy, question.draft, question.summary)


def replay(policy: WorkflowConfig, question: RecordedQuestion, *, workflow: str) -> Verdict:
    """The verdict ``policy`` would have given ``question``."""
    confidence = question.confidence
    if not question.confidence_known and question.verdict == "allow":
        confidence = 1.0
    decision = decide(
        policy,
        GateQuestion(
            action=question.action,
            draft=question.draft,
            confidence=confidence,
            summary=question.summary,
        ),
        stop_topic=stop_topic_under(policy, question),
        workflow=workflow,
        paused=_RECORDED_PAUSE if question.paused else None,
    )
    return decision.verdict
