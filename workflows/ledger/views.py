"""Read-only snapshots of handoffs and decisions, shaped for display.

The domain fills these from its database rows; ``handlers/blocks`` turns them into Slack
messages. Keeping them as plain frozen dataclasses means the builders never touch a
session, and the domain never learns what a Block Kit block is. No I/O, no Slack imports.

Every string here is raw text: some of it (summary, draft, error, stop topic, reason) comes
from a model or an automation and is untrusted. Escaping is the builders' job, not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.policy import PauseState

#: How much of a tool error goes into the one-line reason; the whole text is shown elsewhere.
REASON_ERROR_CHARS = 120

#: Outcomes a reviewer can record, in the order the UI offers them.
OUTCOMES = ("approved", "edited", "rejected", "taken_over", "retry_requested")

#: A Slack text box holds at most this many characters. A longer draft cannot be edited in
#: Slack without cutting it, so it is offered for Approve or Reject only, and posted whole
#: in the message's thread where the message itself has room for only its start.
EDIT_BOX_MAX = 3000

#: Characters of a long draft per thread message. Escaped (``&`` becomes ``&amp;``) a part
#: is at most five times longer, which still fits the ~12,000 characters Slack takes in
#: one message's blocks.
DRAFT_PART_CHARS = 2000

#: At most this many thread messages for one draft (the first 50,000 characters); more
#: would hold up the review channel's other messages for minutes behind Slack's rate limit.
DRAFT_PARTS_MAX = 25

#: Kinds of handoff; anything else is shown like ``other``.
KINDS = ("draft", "low_confidence", "stop_rule", "approval_required", "tool_failure", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionView:
    """What a reviewer decided about one handoff, and how long it took them."""

    outcome: str
    """One of ``OUTCOMES``."""
    reviewer: str
    """Slack user ID of the person who decided."""
    decided_at: datetime
    """When, UTC-aware."""
    final_text: str | None
    """The text that goes out (the edited text for ``edited``)."""
    diff: str | None
    """Unified diff from the draft to ``final_text``, for ``edited``."""
    reason: str | None
    """Why, as the reviewer typed it (required for ``rejected``)."""
    category: str | None
    """Reject category (``wrong_facts``, ``wrong_tone``, ``policy``, ``incomplete``, ``other``)."""
    latency_ms: int
    """From the handoff being opened to the decision."""
    approvers: tuple[str, ...] = ()
    """Every approver of a quorum's approval, in order; empty when one person decided."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuorumView:
    """Where a quorum stands: what it needs, who approved so far, how many are missing."""

    required: int
    from_groups: tuple[str, ...]
    approvers: tuple[str, ...]
    needed: int
    missing_from: tuple[str, ...]
    edited: bool
    """The text was edited: the approvals so far are of the edited text."""
    round: int = 0
    """Which text the approvals are of (an edit starts the next round); on the buttons, so
    an Approve on a message showing an older text is refused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffView:
    """One case in front of a person, with its decision once there is one."""

    id: str
    workflow: str
    run_id: str
    kind: str
    """One of ``KINDS``."""
    status: str
    """``pending``, ``expired`` or one of ``OUTCOMES``."""
    summary: str
    action: str | None
    draft: str | None
    confidence: float | None
    threshold: float | None
    stop_topic: str | None
    tool: str | None
    error: str | None
    """Full error text; never shortened here."""
    last_step: str | None
    created_at: datetime
    paused: PauseState | None
    """The pause in force while the handoff is pending, for the banner; else ``None``.

    Kept as who and why rather than composed text: the reason is typed by people or taken
    from an automation's error, so only the builder may decide what becomes a mention.
    """
    decision: DecisionView | None
    expired_at: datetime | None = None
    """When the handoff expired, so the message can say after how long; optional."""
    gate_reasons: tuple[str, ...] | None = None
    """Every reason the gate gave, in its words; ``None`` when the gate did not open it."""
    shadow: bool = False
    """Posted for comparison only (shadow mode): the automation will not act on the answer."""
    quorum: QuorumView | None = None
    """The approvals the action needs (``workflows.review``); None when one person decides."""

    @property
    def draft_too_long_to_edit(self) -> bool:
        """Whether the draft is longer than a Slack text box holds, so Edit cannot show it."""
        return self.draft is not None and len(self.draft) > EDIT_BOX_MAX

    @property
    def is_pending(self) -> bool:
        """Whether a person can still decide (the message shows buttons only then)."""
        return self.status == "pending"

    def reasons(self) -> list[str]:
        """Say in plain words why this case is in front of a person.

        Each reason is one short line a reviewer can read at a glance. The gate's own
        reasons are shown as it gave them, all of them; a shadow case says first that it is
        one. Otherwise they are derived from the case. A tool error is cut to its first
        line here; the builders show the full text in its own section.
        """
        if self.shadow:
            return [SHADOW_REASON, *(self.gate_reasons or ())]
        if self.gate_reasons:
            return list(self.gate_reasons)
        reasons: list[str] = []
        if self.confidence is not None and self.threshold is not None:
            if self.confidence < self.threshold:
                low, high = _distinct(self.confidence, self.threshold)
                reasons.append(f"confidence {low} < {high}")
        elif self.confidence is not None and self.kind == "low_confidence":
            reasons.append(f"confidence {_number(self.confidence)}")
        elif self.kind == "low_confidence":
            reasons.append("confidence below the workflow's threshold")
        if self.stop_topic:
            reasons.append(f'stop topic "{self.stop_topic}"')
        if self.action and self.kind == "approval_required":
            reasons.append(f"action `{self.action}` requires approval")
        if self.kind == "tool_failure":
            reasons.append(self._tool_reason())
        if not reasons:
            reasons.append(_FALLBACK_REASONS.get(self.kind, _FALLBACK_REASONS["other"]))
        return reasons

    def _tool_reason(self) -> str:
        """One line on the failed tool: its name and the first line of its error."""
        subject = f"tool `{self.tool}` failed" if self.tool else "a tool failed"
        if not self.error or not self.error.strip():
            return subject
        first = self.error.strip().splitlines()[0]
        if len(first) > REASON_ERROR_CHARS or "\n" in self.error.strip():
            first = first[:REASON_ERROR_CHARS].rstrip() + "…"
        return f"{subject}: {first}"


SHADOW_REASON = "workflow is in shadow mode: posted to compare with the automation, not to act"

_FALLBACK_REASONS = {
    "draft": "workflow is in review mode",
    "low_confidence": "confidence below the workflow's threshold",
    "stop_rule": "a stop rule matched",
    "approval_required": "this action requires approval",
    "tool_failure": "a tool failed",
    "other": "the automation asked for a person",
}


def draft_parts(draft: str) -> list[str]:
    """Split a long draft into the parts posted one per thread message, in order.

    Each part holds at most ``DRAFT_PART_CHARS`` characters and ends at a line break when
    one falls in the second half of that window, so lines are rarely split. Joined, the
    parts are the draft exactly.
    """
    parts: list[str] = []
    start = 0
    while start < len(draft):
        end = min(start + DRAFT_PART_CHARS, len(draft))
        if end < len(draft):
            newline = draft.rfind("\n", start + DRAFT_PART_CHARS // 2, end)
            if newline != -1:
                end = newline + 1
        parts.append(draft[start:end])
        start = end
    return parts


def _number(value: float, places: int = 2) -> str:
    """Show a score without trailing zeros: 0.80 reads as ``0.8``."""
    return f"{value:.{places}f}".rstrip("0").rstrip(".") or "0"


def _distinct(low: float, high: float) -> tuple[str, str]:
    """Format two different scores so that they never print as the same number."""
    for places in range(2, 7):
        shown = _number(low, places), _number(high, places)
        if shown[0] != shown[1]:
            return shown
    return repr(low), repr(high)
