"""A backtest's figures, added up one question at a time in memory bounded by the window.

What is kept grows with the number of verdict pairs (at most 16), days and workflows,
never with the number of questions: a transition keeps a count and its first few run IDs.

Review load counts the verdicts a person answers (``review`` and ``shadow``). Per reviewer
it is spread evenly over the reviewers the proposed brief names: who answers a case is
decided by whoever clicks first, so a past share says little about a new roster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from store.audit_chain import canonical_json, sha256_hex

#: Verdicts a person answers: a review, and a shadow case posted for comparison.
NEEDS_PERSON = frozenset({"review", "shadow"})

#: Run IDs kept per verdict change, to look at with ``handrail trace``.
MAX_EXAMPLES = 3


@dataclass(slots=True)
class Transition:
    before: str
    after: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "count": self.count,
            "example_run_ids": self.examples,
        }


@dataclass(frozen=True, slots=True)
class ReviewWaits:
    """The observed time from handoff to decision in the window: the wait a case meets."""

    decisions: int
    p50_ms: int | None
    p90_ms: int | None

    def to_json(self) -> dict[str, Any]:
        return {"decisions": self.decisions, "p50_ms": self.p50_ms, "p90_ms": self.p90_ms}


@dataclass(slots=True)
class WorkflowBacktest:
    """One workflow's questions, re-decided under its proposed brief."""

    workflow: str
    mode_now: str | None
    mode_proposed: str
    reviewers: tuple[str, ...]
    window_days: float
    questions: int = 0
    partial: int = 0
    transitions: dict[tuple[str, str], Transition] = field(default_factory=dict)
    reviews_by_day: dict[date, list[int]] = field(default_factory=dict)
    waits: ReviewWaits | None = None

    def add(self, *, run_id: str, day: date, before: str, after: str, complete: bool) -> None:
        self.questions += 1
        self.partial += not complete
        pair = self.transitions.get((before, after))
        if pair is None:
            pair = self.transitions[(before, after)] = Transition(before, after)
        pair.count += 1
        if before != after and len(pair.examples) < MAX_EXAMPLES:
            pair.examples.append(run_id)
        counts = self.reviews_by_day.setdefault(day, [0, 0])
        counts[0] += before in NEEDS_PERSON
        counts[1] += after in NEEDS_PERSON

    @property
    def changed(self) -> list[Transition]:
        """Verdicts that would change, the most frequent first."""
        moved = [t for t in self.transitions.values() if t.before != t.after]
        return sorted(moved, key=lambda t: (-t.count, t.before, t.after))

    @property
    def reviews_before(self) -> int:
        return sum(before for before, _ in self.reviews_by_day.values())

    @property
    def reviews_after(self) -> int:
        return sum(after for _, after in self.reviews_by_day.values())

    def per_day(self, reviews: int) -> float:
        return reviews / self.window_days

    def per_reviewer_per_day(self) -> float | None:
        """The proposed load per named reviewer and day; None when the brief names none."""
        if not self.reviewers:
            return None
        return self.per_day(self.reviews_after) / len(self.reviewers)

    def to_json(self) -> dict[str, Any]:
        per_reviewer = self.per_reviewer_per_day()
        return {
            "workflow": self.workflow,
            "mode": {"now": self.mode_now, "proposed": self.mode_proposed},
            "questions": self.questions,
            "replayed_on_partial_inputs": self.partial,
            "unchanged": sum(t.count for t in self.transitions.values() if t.before == t.after),
            "changes": [t.to_json() for t in self.changed],
            "review_load": {
                "before": self.reviews_before,
                "after": self.reviews_after,
                "per_day_before": round(self.per_day(self.reviews_before), 2),
                "per_day_after": round(self.per_day(self.reviews_after), 2),
                "by_day": [
                    {"day": day.isoformat(), "before": counts[0], "after": counts[1]}
                    for day, counts in sorted(self.reviews_by_day.items())
                ],
                "spread": "evenly over the proposed brief's reviewers",
                "per_reviewer_per_day": {
                    reviewer: round(per_reviewer, 2) for reviewer in self.reviewers
                }
                if per_reviewer is not None
                else {},
            },
            "expected_wait": self.waits.to_json() if self.waits else None,
        }


@dataclass(slots=True)
class BacktestReport:
    brief: str
    since: datetime
    until: datetime
    workflows: list[WorkflowBacktest] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    """Workflows of the current brief the proposed one leaves out: not evaluated."""

    @property
    def questions(self) -> int:
        return sum(w.questions for w in self.workflows)

    @property
    def partial(self) -> int:
        return sum(w.partial for w in self.workflows)

    def body(self) -> dict[str, Any]:
        return {
            "brief": self.brief,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "questions": self.questions,
            "replayed_on_partial_inputs": self.partial,
            "workflows": [w.to_json() for w in self.workflows],
            "not_in_proposed_brief": self.dropped,
        }

    def to_json(self) -> dict[str, Any]:
        body = self.body()
        return {**body, "digest": sha256_hex(canonical_json(body))}


def window_days(since: timedelta) -> float:
    """The window in days, at least one, so a per-day figure never divides by zero."""
    return max(since / timedelta(days=1), 1.0)
