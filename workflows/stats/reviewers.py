"""Who reviewed how much, and who may be approving without reading.

Two signals, both shown as signals for a person to look into, never as verdicts:

- approvals faster than the draft can be read: reading at ``WORDS_PER_MINUTE`` with
  about ``CHARS_PER_WORD`` characters a word (spaces included) is 40 ms a character, and
  no approval is read in under ``READING_FLOOR_MS``;
- a reviewer whose approval-unchanged rate on an action is far above their peers' on the
  same action: at least ``OUTLIER_MIN_CASES`` decisions on each side, and the reviewer's
  Wilson lower bound above the peers' rate by ``OUTLIER_MARGIN``. With one reviewer there
  are no peers, and nothing is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from store.repositories.stats import ReadingSpeed
from workflows.stats.evidence import Rate, wilson_lower_bound
from workflows.stats.figures import DRAFT_OUTCOMES

WORDS_PER_MINUTE = 250
CHARS_PER_WORD = 6
READING_FLOOR_MS = 3000
READING_SPEED = ReadingSpeed(
    ms_per_char=60_000 // (WORDS_PER_MINUTE * CHARS_PER_WORD), floor_ms=READING_FLOOR_MS
)
OUTLIER_MIN_CASES = 20
OUTLIER_MARGIN = 0.10


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewerLoad:
    reviewer: str
    outcomes: dict[str, int]
    fast_approvals: int

    @property
    def decisions(self) -> int:
        return sum(self.outcomes.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "decisions": self.decisions,
            "outcomes": self.outcomes,
            "approvals_faster_than_reading": self.fast_approvals,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalOutlier:
    """A reviewer approving unchanged far more often than the others on one action."""

    reviewer: str
    action: str
    rate: Rate
    peers: Rate

    def to_json(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "action": self.action,
            "approved_unchanged": self.rate.to_json(),
            "peers_approved_unchanged": self.peers.to_json(),
        }


def reviewer_loads(rows: Iterable[tuple[str, str, str, int, int]]) -> list[ReviewerLoad]:
    """Decisions per person, busiest first."""
    outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    fast: dict[str, int] = defaultdict(int)
    for reviewer, _action, outcome, count, quick in rows:
        outcomes[reviewer][outcome] += count
        fast[reviewer] += quick
    loads = [
        ReviewerLoad(reviewer=who, outcomes=dict(counts), fast_approvals=fast[who])
        for who, counts in outcomes.items()
    ]
    return sorted(loads, key=lambda load: (-load.decisions, load.reviewer))


def approval_outliers(rows: Iterable[tuple[str, str, str, int, int]]) -> list[ApprovalOutlier]:
    """Reviewers whose approval rate on an action stands far above their peers'."""
    cells: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for reviewer, action, outcome, count, _ in rows:
        if outcome in DRAFT_OUTCOMES:
            cell = cells[action][reviewer]
            cell[0] += count if outcome == "approved" else 0
            cell[1] += count
    found: list[ApprovalOutlier] = []
    for action, by_reviewer in sorted(cells.items()):
        total_approved = sum(a for a, _ in by_reviewer.values())
        total = sum(n for _, n in by_reviewer.values())
        for reviewer, (approved, decided) in sorted(by_reviewer.items()):
            peers = Rate(total_approved - approved, total - decided)
            if decided < OUTLIER_MIN_CASES or peers.n < OUTLIER_MIN_CASES:
                continue
            peer_rate = peers.part / peers.n
            if wilson_lower_bound(approved, decided) >= peer_rate + OUTLIER_MARGIN:
                found.append(
                    ApprovalOutlier(
                        reviewer=reviewer,
                        action=action,
                        rate=Rate(approved, decided),
                        peers=peers,
                    )
                )
    return found
