"""The workflow's written policy, applied to one gate question. Pure: no I/O.

Order matters and is part of the contract: paused → deny; action not allowed → deny;
shadow mode → shadow; approval required, a stop topic, low or missing confidence, or
review mode → review; otherwise allow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from workflows.config.brief import WorkflowConfig

Verdict = Literal["allow", "review", "deny", "shadow"]


@dataclass(frozen=True, slots=True)
class GateQuestion:
    action: str
    draft: str | None = None
    confidence: float | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class PauseState:
    paused_by: str
    reason: str | None

    def describe(self, workflow: str) -> str:
        """``workflow ticket-triage is paused by U0OWNER: bad drafts``."""
        why = f": {self.reason}" if self.reason else ""
        return f"workflow {workflow} is paused by {self.paused_by}{why}"


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The verdict, why, and what a person would be shown if it goes to review."""

    verdict: Verdict
    reason: str
    handoff_kind: str | None = None
    stop_topic: str | None = None
    reasons: tuple[str, ...] = ()
    """Each reason a person is asked to look, one line apiece, for the handoff message.

    For ``shadow`` these are the reasons review mode would have given: what the reviewers'
    answers are compared against.
    """


@lru_cache(maxsize=256)
def stop_topic_pattern(topics: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for all topics, each matched as whole words.

    "Whole words" is "no word character right before or after", not ``\\b``: a ``\\b``
    beside a topic that starts or ends with punctuation (``401(k)``, ``C++``, ``.env``)
    asks for a word character on the far side, so such a topic could never match.
    """
    if not topics:
        return None
    longest_first = sorted(topics, key=len, reverse=True)  # "C++" before "C"
    words = [r"\s+".join(re.escape(part) for part in topic.split()) for topic in longest_first]
    return re.compile(r"(?<!\w)(" + "|".join(words) + r")(?!\w)", re.IGNORECASE)


def find_stop_topic(policy: WorkflowConfig, *texts: str | None) -> str | None:
    """The first stop topic that occurs as whole words, in any case, in ``texts``."""
    pattern = stop_topic_pattern(tuple(policy.stop_topics))
    if pattern is None:
        return None
    for text in texts:
        if text and (match := pattern.search(text)):
            found = " ".join(match.group(1).lower().split())
            return next((t for t in policy.stop_topics if t.lower() == found), found)
    return None


def matched_stop_topics(policy: WorkflowConfig, text: str | None) -> list[str]:
    """Every stop topic of ``policy`` found in ``text``, in the brief's spelling, in order.

    The gate records these per text so that a backtest can re-decide a question under
    another brief: a topic found in text that redaction later removed stays found.
    """
    pattern = stop_topic_pattern(tuple(policy.stop_topics))
    if pattern is None or not text:
        return []
    spelled = {topic.lower(): topic for topic in policy.stop_topics}
    found: list[str] = []
    for match in pattern.finditer(text):
        words = " ".join(match.group(1).lower().split())
        topic = spelled.get(words, words)
        if topic not in found:
            found.append(topic)
    return found


def evaluate(
    policy: WorkflowConfig, question: GateQuestion, *, workflow: str, paused: PauseState | None
) -> GateDecision:
    """Apply ``policy`` to ``question``; the reason is written for the person reading a trace."""
    stop_topic = find_stop_topic(policy, question.draft, question.summary)
    return decide(policy, question, stop_topic=stop_topic, workflow=workflow, paused=paused)


def decide(
    policy: WorkflowConfig,
    question: GateQuestion,
    *,
    stop_topic: str | None,
    workflow: str,
    paused: PauseState | None,
) -> GateDecision:
    """The policy's order of rules, given the stop topic already looked for.

    Split from :func:`evaluate` so a backtest can apply the same rules to a recorded
    question, whose stop topic comes from what was recorded rather than from its texts.
    """
    if paused is not None:
        return GateDecision("deny", paused.describe(workflow))
    if question.action not in policy.allowed_actions:
        allowed = ", ".join(policy.allowed_actions) or "nothing"
        return GateDecision(
            "deny", f"action '{question.action}' is not allowed for {workflow} (allowed: {allowed})"
        )
    reasons: list[tuple[str, str]] = []
    if stop_topic is not None:
        reasons.append(("stop_rule", f'stop topic "{stop_topic}"'))
    if question.action in policy.require_approval:
        reasons.append(("approval_required", f"action '{question.action}' requires approval"))
    if question.confidence is None:
        reasons.append(("low_confidence", "confidence missing"))
    elif question.confidence < policy.confidence_threshold:
        reasons.append(
            (
                "low_confidence",
                f"confidence {question.confidence:g} < {policy.confidence_threshold:g}",
            )
        )
    if policy.mode == "shadow":
        kind = reasons[0][0] if reasons else "draft"
        return GateDecision(
            "shadow",
            "shadow mode: the case is posted for comparison; do not act",
            handoff_kind=kind,
            stop_topic=stop_topic,
            reasons=tuple(reason for _, reason in reasons),
        )
    if policy.mode == "review" and not reasons:
        reasons.append(("draft" if question.draft else "other", "workflow is in review mode"))
    if reasons:
        return GateDecision(
            "review",
            "; ".join(reason for _, reason in reasons),
            handoff_kind=reasons[0][0],
            stop_topic=stop_topic,
            reasons=tuple(reason for _, reason in reasons),
        )
    return GateDecision("allow", "within policy")
