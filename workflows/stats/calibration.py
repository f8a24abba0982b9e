"""How well the automation's confidence predicts a reviewer's approval, per action.

A reliability table puts confidence bands (tenths) beside the share approved unchanged.
A threshold is suggested only where the evidence carries it: the lowest confidence ``t``
(in hundredths, one that some decided case had) such that, over every decided case at or
above ``t``, the Wilson lower bound of the share approved unchanged reaches the workflow's
``calibration_target`` and at least ``MIN_THRESHOLD_CASES`` cases stand behind it. With
0.98 that takes some 190 approvals without a miss: a thin sample suggests nothing, and
says so.

Shadow agreement reads the same counts for shadow cases only: an approval unchanged is
the reviewer agreeing with what the automation would have done; an edit or a rejection
is disagreeing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from store.repositories.stats import CENTILES, CaseGroup
from workflows.stats.evidence import Rate, wilson_lower_bound
from workflows.stats.figures import DRAFT_OUTCOMES

#: Cases at or above a threshold needed before it can be suggested.
MIN_THRESHOLD_CASES = 30
#: Reliability bands are tenths of confidence.
BAND_WIDTH = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    low: float
    high: float
    rate: Rate
    """Approved unchanged out of decided, in this band."""

    def to_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, **self.rate.to_json()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """A threshold the evidence supports, and what it would have spared reviewers."""

    value: float
    approved: int
    decided: int
    lower_bound: float
    saved: int
    handoffs: int

    @property
    def saved_share(self) -> float:
        return self.saved / self.handoffs if self.handoffs else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.value,
            "approved_unchanged": self.approved,
            "decided": self.decided,
            "wilson_lower_bound": round(self.lower_bound, 4),
            "handoffs_saved": self.saved,
            "handoffs": self.handoffs,
            "saved_share": round(self.saved_share, 4),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionCalibration:
    action: str
    bands: list[Band]
    with_confidence: int
    """Decided cases of this action that carried a confidence."""
    threshold: Threshold | None
    why_none: str | None
    """Why no threshold is suggested, in words, when there is none."""
    decided: dict[int, list[int]]
    """``{hundredth: [approved unchanged, decided]}``, for figures at another threshold."""
    askable: dict[int, int]
    """``{hundredth: handoffs}`` a threshold could have spared (a confidence, no stop topic)."""
    handoffs: int

    def at(self, value: float) -> Threshold:
        """The figures of the cases at or above confidence ``value``."""
        low = round(value * CENTILES)
        approved = sum(a for c, (a, _) in self.decided.items() if c >= low)
        count = sum(n for c, (_, n) in self.decided.items() if c >= low)
        return Threshold(
            value=low / CENTILES,
            approved=approved,
            decided=count,
            lower_bound=wilson_lower_bound(approved, count),
            saved=sum(n for c, n in self.askable.items() if c >= low),
            handoffs=self.handoffs,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "bands": [band.to_json() for band in self.bands],
            "decided_with_confidence": self.with_confidence,
            "suggested": self.threshold.to_json() if self.threshold else None,
            "why_no_suggestion": self.why_none,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowAgreement:
    action: str
    overall: Rate
    bands: list[Band]
    missing_confidence: Rate
    """Agreement on shadow cases that carried no confidence."""

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "agreement": self.overall.to_json(),
            "bands": [band.to_json() for band in self.bands],
            "no_confidence": self.missing_confidence.to_json(),
        }


def _reviewed(group: CaseGroup) -> bool:
    return group.kind != "tool_failure"


def _bands(counts: dict[int, list[int]]) -> list[Band]:
    """Hundredths ``{centile: [approved, decided]}`` gathered into tenths, empty ones left out."""
    tenths: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for centile, (approved, decided) in counts.items():
        tenth = tenths[centile // BAND_WIDTH]
        tenth[0] += approved
        tenth[1] += decided
    return [
        Band(
            low=tenth / 10,
            high=(tenth + 1) / 10,
            rate=Rate(approved, decided),
        )
        for tenth, (approved, decided) in sorted(tenths.items())
        if decided
    ]


def calibrate(
    groups: Iterable[CaseGroup], *, target: float
) -> tuple[list[ActionCalibration], list[ShadowAgreement]]:
    """The reliability table and suggested threshold per action, and shadow agreement.

    ``groups`` are split by action. Decided means approved, edited or rejected; tool
    failures are left out (nobody approves a draft there).
    """
    decided: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    askable: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    handoffs: dict[str, int] = defaultdict(int)
    shadow: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for group in filter(_reviewed, groups):
        handoffs[group.split] += group.count
        if group.centile is not None and not group.stop_topic:
            askable[group.split][group.centile] += group.count
        if group.status not in DRAFT_OUTCOMES:
            continue
        approved = group.count if group.status == "approved" else 0
        band = -1 if group.centile is None else group.centile
        if group.shadow:
            cell = shadow[group.split][band]
            cell[0] += approved
            cell[1] += group.count
        if group.centile is not None:
            cell = decided[group.split][group.centile]
            cell[0] += approved
            cell[1] += group.count
    calibrations = [
        _calibrate_action(
            action,
            decided.get(action, {}),
            askable.get(action, {}),
            handoffs=handoffs[action],
            target=target,
        )
        for action in sorted(handoffs)
    ]
    agreements = [
        ShadowAgreement(
            action=action,
            overall=Rate(sum(a for a, _ in cells.values()), sum(n for _, n in cells.values())),
            bands=_bands({c: v for c, v in cells.items() if c >= 0}),
            missing_confidence=Rate(*cells.get(-1, [0, 0])),
        )
        for action, cells in sorted(shadow.items())
    ]
    return calibrations, agreements


def _calibrate_action(
    action: str,
    decided: dict[int, list[int]],
    askable: dict[int, int],
    *,
    handoffs: int,
    target: float,
) -> ActionCalibration:
    with_confidence = sum(n for _, n in decided.values())
    found = ActionCalibration(
        action=action,
        bands=_bands(decided),
        with_confidence=with_confidence,
        threshold=None,
        why_none="no decided case of this action carried a confidence",
        decided={c: list(v) for c, v in decided.items()},
        askable=dict(askable),
        handoffs=handoffs,
    )
    if not with_confidence:
        return found
    best: float | None = None
    approved = count = 0
    best_share = 0.0
    for centile in range(CENTILES - 1, -1, -1):
        cell = decided.get(centile, [0, 0])
        approved, count = approved + cell[0], count + cell[1]
        if not cell[1]:
            continue  # no case at this confidence: nothing says it is safe down to here
        if count < MIN_THRESHOLD_CASES:
            continue
        best_share = max(best_share, approved / count)
        if wilson_lower_bound(approved, count) >= target:
            best = centile / CENTILES
    why = None
    if best is None and (with_confidence < MIN_THRESHOLD_CASES or best_share >= target):
        why = (
            f"not enough evidence yet: {with_confidence} decided case(s) with a confidence; "
            f"a threshold needs at least {MIN_THRESHOLD_CASES} cases above it approved "
            f"unchanged with a 95% lower bound of {target:.0%} or more"
        )
    elif best is None:
        why = (
            f"reviewers changed too many: above any confidence with {MIN_THRESHOLD_CASES}+ "
            f"cases, at most {best_share:.0%} were approved unchanged (target {target:.0%}; "
            f"{with_confidence} decided case(s) with a confidence)"
        )
    return replace(found, threshold=None if best is None else found.at(best), why_none=why)
