"""What the charts show, read as grouped counts (a few hundred rows, whatever the cases)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import stats as repo
from workflows.stats.calibration import ActionCalibration
from workflows.stats.report import StatsReport


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartData:
    workflow: str
    start: date
    end: date
    days: dict[date, Counter[str]] = field(default_factory=dict)
    """Handoffs opened each UTC day, by what became of them."""
    review_ms: Counter[int] = field(default_factory=Counter)
    """Decided cases by review-time bucket (``store.repositories.stats._bucket``)."""
    calibration: list[ActionCalibration] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.days


async def load_chart_data(db: AsyncSession, *, report: StatsReport) -> ChartData:
    """The per-day outcomes of ``report``'s window (one grouped query); the review-time
    histogram and the calibration come with the report."""
    window = repo.Window(workflow=report.workflow, start=report.start, end=report.end)
    days: dict[date, Counter[str]] = {}
    for day, status, count in await repo.count_outcomes_by_day(db, window):
        days.setdefault(date.fromisoformat(day[:10]), Counter())[status] += count
    start, end = report.start.date(), (report.end - timedelta(microseconds=1)).date()
    return ChartData(
        workflow=report.workflow,
        start=start,
        end=end,
        days=days,
        review_ms=Counter(report.review_buckets),
        calibration=report.calibration,
    )
