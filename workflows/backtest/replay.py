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
from workflows.config.brief import WorkflowConfig
from workflows.policy import (
    GateQuestion,
    PauseState,
    Verdict,
    decide,
    find_stop_topic,
    stop_topic_pattern,
)

#: Stands in for the pause a question was asked under; its words are never shown.
_RECORDED_PAUSE = PauseState(paused_by="(recorded)", reason=None)


class Replayer:
    """Re-decides many questions under one brief, remembering each verdict by what it hangs on.

    ``decide`` reads the action, whether the confidence is missing or under the threshold,
    whether there is a draft, the stop topic and the pause; questions alike in those get
    the same verdict, so it is worked out once per combination (a few dozen) rather than
    once per question, with the reason texts no backtest shows.
    """

    def __init__(self, policy: WorkflowConfig, *, workflow: str) -> None:
        self.policy = policy
        self.workflow = workflow
        self._verdicts: dict[tuple[object, ...], Verdict] = {}
        self._named = {topic.lower(): topic for topic in policy.stop_topics}
        self._pattern = stop_topic_pattern(tuple(policy.stop_topics))

    def _stop_topic(self, question: RecordedQuestion) -> str | None:
        """The stop topic the proposed brief would have stopped ``question`` on, if any:
        a topic the gate found that the brief still names, else one in the kept texts."""
        for found in question.topics_found:
            if (topic := self._named.get(found.lower())) is not None:
                return topic
        if self._pattern is None:
            return None
        for text in (question.draft, question.summary):
            if text and self._pattern.search(text):
                return find_stop_topic(self.policy, text)
        return None

    def replay(self, question: RecordedQuestion) -> Verdict:
        confidence = question.confidence
        if not question.confidence_known and question.verdict == "allow":
            confidence = 1.0
        stop_topic = self._stop_topic(question)
        below = confidence is not None and confidence < self.policy.confidence_threshold
        key = (
            question.action,
            confidence is None,
            below,
            bool(question.draft),
            stop_topic,
            question.paused,
        )
        verdict = self._verdicts.get(key)
        if verdict is None:
            decision = decide(
                self.policy,
                GateQuestion(
                    action=question.action,
                    draft=question.draft,
                    confidence=confidence,
                    summary=question.summary,
                ),
                stop_topic=stop_topic,
                workflow=self.workflow,
                paused=_RECORDED_PAUSE if question.paused else None,
            )
            verdict = self._verdicts[key] = decision.verdict
        return verdict
