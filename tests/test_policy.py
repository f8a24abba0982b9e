"""The gate's policy, applied in its documented order."""

from __future__ import annotations

from typing import Any

from workflows.config.brief import WorkflowConfig
from workflows.policy import GateQuestion, PauseState, evaluate, find_stop_topic


def policy(**overrides: Any) -> WorkflowConfig:
    base: dict[str, Any] = {
        "mode": "auto",
        "reviewers": ["U0ALICE"],
        "review_channel": "C0REVIEW",
        "allowed_actions": ["tag", "send_reply", "refund"],
        "require_approval": ["refund"],
        "confidence_threshold": 0.8,
        "stop_topics": ["refund", "account access"],
    }
    return WorkflowConfig.model_validate(base | overrides)


def ask(p: WorkflowConfig, paused: PauseState | None = None, **question: Any) -> Any:
    question.setdefault("confidence", 0.95)
    return evaluate(p, GateQuestion(**question), workflow="triage", paused=paused)


def test_paused_denies_before_anything_else() -> None:
    """A paused workflow denies even an allowed, confident action, naming who paused it."""
    decision = ask(policy(), PauseState("U0OWNER", "bad drafts"), action="tag")
    assert decision.verdict == "deny"
    assert "paused by U0OWNER: bad drafts" in decision.reason


def test_action_outside_allowed_actions_is_denied() -> None:
    """An action the workflow may not take is denied with the allowed list."""
    decision = ask(policy(), action="delete")
    assert decision.verdict == "deny"
    assert "allowed: tag, send_reply, refund" in decision.reason


def test_shadow_mode_posts_for_comparison() -> None:
    """Shadow mode answers shadow for an allowed action, with a handoff kind."""
    decision = ask(policy(mode="shadow"), action="tag")
    assert decision.verdict == "shadow"
    assert decision.handoff_kind == "draft"


def test_approval_required_action_goes_to_review() -> None:
    """An action listed in require_approval is reviewed, whatever the confidence."""
    decision = ask(policy(stop_topics=[]), action="refund", confidence=0.99)
    assert decision.verdict == "review"
    assert decision.handoff_kind == "approval_required"


def test_stop_topic_matches_whole_words_in_any_case() -> None:
    """A stop topic in the draft sends it to review; part of a word does not."""
    hit = ask(policy(), action="send_reply", draft="We will issue a REFUND today.")
    miss = ask(policy(), action="send_reply", draft="Your refunded-looking refundable item")
    assert hit.verdict == "review"
    assert hit.stop_topic == "refund"
    assert miss.verdict == "allow"


def test_multi_word_stop_topic_spans_whitespace() -> None:
    """A two-word stop topic matches across a line break."""
    assert find_stop_topic(policy(), "I lost my account\naccess") == "account access"


def test_stop_topics_edged_with_punctuation_match_as_whole_words() -> None:
    """Topics that start or end with a non-word character are found, still as whole words."""
    p = policy(stop_topics=["401(k)", "C++", ".env"])
    assert find_stop_topic(p, "Move my 401(K) plan") == "401(k)"
    assert find_stop_topic(p, "I love c++.") == "C++"
    assert find_stop_topic(p, "read .env file") == ".env"
    assert find_stop_topic(p, "a 1401(k) plan, C++x, my.env") is None


def test_the_longest_of_overlapping_stop_topics_is_named() -> None:
    """Where one topic begins another, the longer one that matches is reported."""
    assert find_stop_topic(policy(stop_topics=["C", "C++"]), "I love C++") == "C++"


def test_low_confidence_goes_to_review_with_the_numbers() -> None:
    """Confidence under the threshold is reviewed, and the reason shows both numbers."""
    decision = ask(policy(), action="send_reply", confidence=0.62)
    assert decision.verdict == "review"
    assert decision.reason == "confidence 0.62 < 0.8"


def test_missing_confidence_goes_to_review() -> None:
    """No confidence at all is treated as not confident."""
    decision = ask(policy(), action="send_reply", confidence=None)
    assert decision.verdict == "review"
    assert decision.reason == "confidence missing"


def test_review_mode_reviews_everything_allowed() -> None:
    """In review mode a confident, allowed action is still reviewed."""
    decision = ask(policy(mode="review"), action="tag", draft="Tagged as billing")
    assert decision.verdict == "review"
    assert decision.handoff_kind == "draft"


def test_auto_mode_allows_what_is_within_policy() -> None:
    """A confident, allowed action with no stop topic is allowed in auto mode."""
    assert ask(policy(), action="tag").verdict == "allow"
