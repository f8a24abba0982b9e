"""One slice of the review metrics (a workflow, or one action, version or reviewer of it).

Built from the grouped counts of ``store.repositories.stats``: summing a few hundred rows
here is all the work Python does, whatever the number of cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from store.repositories.stats import CaseGroup
from workflows.stats.evidence import Rate

#: Outcomes of a reviewed draft; the wrong rate is edited + rejected among them.
DRAFT_OUTCOMES = ("approved", "edited", "rejected")
STATUSES = ("approved", "edited", "rejected", "expired", "taken_over", "retry_requested", "pending")


@dataclass(frozen=True, slots=True, kw_only=True)
class Percentiles:
    p50_ms: int | None = None
    p90_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceFigures:
    """The review metrics of one slice of the window."""

    key: str
    questions: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    """Gate questions by verdict: allow, review, shadow, deny."""
    handoffs: int = 0
    shadow_cases: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    """Why cases were handed off: the first reason the gate gave (or the automation's kind)."""
    statuses: dict[str, int] = field(default_factory=dict)
    """approved (unchanged), edited, rejected, expired, taken_over, retry_requested, pending."""
    rejected_by_category: dict[str, int] = field(default_factory=dict)
    fast_approvals: int = 0
    review_time: Percentiles = Percentiles()
    first_look: Percentiles = Percentiles()
    minutes_per_case: float | None = None

    @property
    def decided(self) -> int:
        return sum(self.statuses.get(outcome, 0) for outcome in DRAFT_OUTCOMES)

    @property
    def wrong_rate(self) -> Rate:
        """Edited + rejected among the drafts a person decided."""
        wrong = self.statuses.get("edited", 0) + self.statuses.get("rejected", 0)
        return Rate(wrong, self.decided)

    @property
    def without_a_person(self) -> int:
        """Questions the gate allowed: cases that went through with nobody looking."""
        return self.verdicts.get("allow", 0)

    @property
    def minutes_saved(self) -> float | None:
        """An estimate: cases without a person x the brief's ``minutes_per_case``."""
        if self.minutes_per_case is None:
            return None
        return self.without_a_person * self.minutes_per_case

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "gate_questions": self.questions,
            "verdicts": self.verdicts,
            "handoffs": self.handoffs,
            "shadow_cases": self.shadow_cases,
            "handoff_kinds": self.kinds,
            "outcomes": {status: self.statuses.get(status, 0) for status in STATUSES},
            "rejected_by_category": self.rejected_by_category,
            "decided": self.decided,
            "wrong_rate": self.wrong_rate.to_json(),
            "review_time_ms": {"p50": self.review_time.p50_ms, "p90": self.review_time.p90_ms},
            "first_look_ms": {"p50": self.first_look.p50_ms, "p90": self.first_look.p90_ms},
            "approvals_faster_than_reading": self.fast_approvals,
            "without_a_person": self.without_a_person,
            "minutes_saved_estimate": self.minutes_saved,
        }


def nearest_rank(histogram: Iterable[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
    """p50 and p90 of each measure from ``(what, bucket_ms, count)`` rows: the bucket holding
    the case of rank ceil(p x n), as the nearest-rank percentile of the bucketed durations."""
    counts: dict[str, Counter[int]] = {}
    for what, bucket, count in histogram:
        counts.setdefault(what, Counter())[bucket] += count
    picked: dict[tuple[str, int], int] = {}
    for what, buckets in counts.items():
        total = sum(buckets.values())
        for percent in (50, 90):
            rank = -(-percent * total // 100)  # ceil without floats
            seen = 0
            for bucket in sorted(buckets):
                seen += buckets[bucket]
                if seen >= rank:
                    picked[(what, percent)] = bucket
                    break
    return picked


def slice_figures(
    key: str,
    *,
    cases: Iterable[CaseGroup],
    verdicts: Iterable[tuple[str, int]],
    rejections: Iterable[tuple[str | None, int]],
    histogram: Iterable[tuple[str, int, int]],
    minutes_per_case: float | None,
) -> SliceFigures:
    """Sum the grouped counts that belong to ``key`` into its figures."""
    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    handoffs = shadow = fast = 0
    for group in cases:
        handoffs += group.count
        shadow += group.count if group.shadow else 0
        fast += group.fast_approvals
        kinds[group.kind] += group.count
        statuses[group.status] += group.count
    for category, count in rejections:
        categories[category or "uncategorised"] += count
    verdict_counts: Counter[str] = Counter()
    for verdict, count in verdicts:
        verdict_counts[verdict] += count
    picked = nearest_rank(histogram)
    return SliceFigures(
        key=key,
        questions=sum(verdict_counts.values()),
        verdicts=dict(verdict_counts),
        handoffs=handoffs,
        shadow_cases=shadow,
        kinds=dict(kinds.most_common()),
        statuses=dict(statuses),
        rejected_by_category=dict(categories.most_common()),
        fast_approvals=fast,
        review_time=Percentiles(
            p50_ms=picked.get(("review", 50)), p90_ms=picked.get(("review", 90))
        ),
        first_look=Percentiles(
            p50_ms=picked.get(("first_look", 50)), p90_ms=picked.get(("first_look", 90))
        ),
        minutes_per_case=minutes_per_case,
    )
