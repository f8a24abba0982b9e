"""``handrail stats``: one workflow's review metrics over a window, for every door.

The CLI prints it as a table, the API answers it as JSON, Slack shows it as a message;
all three read this one ``StatsReport``. Every figure is computed by the database
(``store.repositories.stats``): a handful of grouped queries, whatever the number of cases.
The window counts the gate questions asked in it and the handoffs opened in it, with
whatever became of them by now (a handoff opened in the window and still waiting is pending).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import stats as repo
from workflows.config.brief import HandrailConfig, WorkflowConfig
from workflows.digest.corrections import Correction, top_corrections
from workflows.errors import InvalidInput, NotFound
from workflows.stats.calibration import ActionCalibration, ShadowAgreement, calibrate
from workflows.stats.evidence import MIN_CASES
from workflows.stats.figures import SliceFigures, slice_figures
from workflows.stats.graduation import Suggestion, suggest
from workflows.stats.prompt_notes import Changelog, read_changelog
from workflows.stats.reviewers import (
    READING_SPEED,
    ApprovalOutlier,
    ReviewerLoad,
    approval_outliers,
    reviewer_loads,
)

SPLITS = ("action", "prompt_version", "reviewer")
#: The newest edit diffs read for the repeated corrections: bounded, whatever the window.
DIFFS_READ = 500
CORRECTIONS_SHOWN = 5
LONGEST_WINDOW = timedelta(days=3660)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReport:
    workflow: str
    start: datetime
    end: datetime
    split: str | None
    overall: SliceFigures
    slices: list[SliceFigures]
    reviewers: list[ReviewerLoad]
    outliers: list[ApprovalOutlier]
    corrections: list[Correction]
    calibration: list[ActionCalibration]
    shadow: list[ShadowAgreement]
    suggestions: list[Suggestion]
    changelog: Changelog
    target: float
    review_buckets: dict[int, int] = field(default_factory=dict)
    """Decided cases of the window by review-time bucket (ms), for the review-time chart."""

    @property
    def days(self) -> int:
        return max(round((self.end - self.start).total_seconds() / 86400), 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "by": self.split,
            "min_cases": MIN_CASES,
            "reading_speed": {
                "ms_per_char": READING_SPEED.ms_per_char,
                "floor_ms": READING_SPEED.floor_ms,
            },
            "overall": self.overall.to_json(),
            "slices": [piece.to_json() for piece in self.slices],
            "reviewers": [load.to_json() for load in self.reviewers],
            "approval_outliers": [outlier.to_json() for outlier in self.outliers],
            "corrections": [
                {"before": c.before, "after": c.after, "count": c.count} for c in self.corrections
            ],
            "calibration_target": self.target,
            "calibration": [action.to_json() for action in self.calibration],
            "shadow_agreement": [agreement.to_json() for agreement in self.shadow],
            "suggestions": [suggestion.to_json() for suggestion in self.suggestions],
            "prompt_versions": self.changelog.to_json(),
        }


def policy_of(config: HandrailConfig, workflow: str) -> WorkflowConfig:
    policy = config.workflow(workflow)
    if policy is None:
        known = ", ".join(sorted(config.workflows)) or "none"
        raise NotFound(
            f"no workflow named '{workflow[:64]}' in workflows.yml (known: {known})",
            details=[{"loc": "workflow", "value": workflow[:64]}],
        )
    return policy


def check_split(split: str | None) -> repo.Split:
    if split is None or split == "":
        return None
    if split == "action":
        return "action"
    if split == "prompt_version":
        return "prompt_version"
    if split == "reviewer":
        return "reviewer"
    raise InvalidInput(
        f"cannot split by {split[:40]!r}; use one of: {', '.join(SPLITS)}",
        details=[{"loc": "by", "value": split[:40]}],
    )


async def build_stats(
    db: AsyncSession,
    *,
    config: HandrailConfig,
    workflow: str,
    since: timedelta,
    split: str | None,
    now: datetime,
) -> StatsReport:
    """The review metrics of ``workflow`` over the ``since`` before ``now`` (reads only)."""
    policy = policy_of(config, workflow)
    by = check_split(split)
    if since > LONGEST_WINDOW:
        raise InvalidInput(
            f"the window is at most {LONGEST_WINDOW.days} days", details=[{"loc": "since"}]
        )
    window = repo.Window(workflow=workflow, start=now - since, end=now)
    by_action = await repo.count_cases(db, window, split="action", speed=READING_SPEED)
    cases = by_action if by == "action" else None
    if cases is None and by is not None:
        cases = await repo.count_cases(db, window, split=by, speed=READING_SPEED)
    verdicts = await repo.count_gate_verdicts(db, window, split=by)
    rejections = await repo.count_rejections(db, window, split=by)
    histogram = await repo.review_histogram(db, window, split=by)
    minutes = policy.minutes_per_case
    overall = slice_figures(
        "*",
        cases=by_action,
        verdicts=[(verdict, n) for _, verdict, n in verdicts],
        rejections=[(category, n) for _, category, n in rejections],
        histogram=[(what, bucket, n) for _, what, bucket, n in histogram],
        minutes_per_case=minutes,
    )
    slices: list[SliceFigures] = []
    if by is not None and cases is not None:
        keys = sorted({c.split for c in cases} | {s for s, _, _ in verdicts if s != "*"})
        slices = [
            slice_figures(
                key,
                cases=[c for c in cases if c.split == key],
                verdicts=[(v, n) for s, v, n in verdicts if s == key],
                rejections=[(c, n) for s, c, n in rejections if s == key],
                histogram=[(w, b, n) for s, w, b, n in histogram if s == key],
                minutes_per_case=minutes,
            )
            for key in keys
        ]
    outcomes = await repo.count_reviewer_outcomes(db, window, speed=READING_SPEED)
    calibrations, agreements = calibrate(by_action, target=policy.calibration_target)
    days = max(round(since.total_seconds() / 86400), 1)
    diffs = await repo.list_edit_diffs(db, window, limit=DIFFS_READ)
    return StatsReport(
        workflow=workflow,
        start=window.start,
        end=window.end,
        split=by,
        overall=overall,
        slices=slices,
        reviewers=reviewer_loads(outcomes),
        outliers=approval_outliers(outcomes),
        corrections=top_corrections(diffs, limit=CORRECTIONS_SHOWN),
        calibration=calibrations,
        shadow=agreements,
        suggestions=suggest(workflow=workflow, policy=policy, calibrations=calibrations, days=days),
        changelog=await read_changelog(db, workflow=workflow),
        target=policy.calibration_target,
        review_buckets=_review_buckets(histogram),
    )


def _review_buckets(histogram: list[tuple[str, str, int, int]]) -> dict[int, int]:
    """The review-time buckets of every slice summed: the whole window's distribution."""
    buckets: Counter[int] = Counter()
    for _, what, bucket, count in histogram:
        if what == "review":
            buckets[bucket] += count
    return dict(buckets)
