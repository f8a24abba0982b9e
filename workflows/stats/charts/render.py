"""The charts as PNG, drawn server-side with matplotlib's Agg canvas.

``Figure`` objects are made directly (never ``pyplot``), so no global state, GUI backend or
figure registry is involved and rendering in a worker thread is safe. Every chart renders
even with no data: it then says so in the picture instead of drawing empty axes.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from workflows.stats.charts.data import ChartData

#: Outcomes stacked bottom to top, with the colours a reader expects (green is good).
OUTCOME_COLOURS = {
    "approved": "#2e7d32",
    "edited": "#f9a825",
    "rejected": "#c62828",
    "taken_over": "#6a1b9a",
    "retry_requested": "#00838f",
    "expired": "#757575",
    "pending": "#90caf9",
}
SIZE = (8.0, 3.6)
DPI = 100
#: Above this many days the day labels thin out to keep them legible.
LABELLED_DAYS = 14


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    name: str
    """A file name stem, e.g. ``outcomes``."""
    title: str
    alt: str
    """What the picture shows, in words, for screen readers and Slack's ``alt_txt``."""
    png: bytes


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _nothing(figure: Figure, title: str, why: str) -> bytes:
    axes = figure.subplots()
    axes.set_title(title)
    axes.set_axis_off()
    axes.text(0.5, 0.5, why, ha="center", va="center", fontsize=12, color="#555555")
    return _png(figure)


def outcomes_chart(data: ChartData) -> Chart:
    """Handoffs opened per day, stacked by what became of them."""
    title = f"{data.workflow}: handoffs and outcomes per day"
    figure = Figure(figsize=SIZE, layout="constrained")
    total = sum(sum(c.values()) for c in data.days.values())
    if not total:
        png = _nothing(figure, title, "No handoffs in this window")
        return Chart(name="outcomes", title=title, alt=f"{title}: none", png=png)
    days = [data.start + timedelta(days=n) for n in range((data.end - data.start).days + 1)]
    axes = figure.subplots()
    bottom = [0] * len(days)
    totals: Counter[str] = Counter()
    for status, colour in OUTCOME_COLOURS.items():
        heights = [data.days.get(day, Counter()).get(status, 0) for day in days]
        if not any(heights):
            continue
        totals[status] = sum(heights)
        axes.bar(range(len(days)), heights, bottom=bottom, color=colour, label=status, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    step = max(len(days) // LABELLED_DAYS, 1)
    axes.set_xticks(range(0, len(days), step), [_day(d) for d in days[::step]], rotation=45)
    axes.set_ylabel("handoffs")
    axes.set_title(title)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    parts = ", ".join(f"{n} {status}" for status, n in totals.most_common())
    alt = f"{title}, {_day(days[0])} to {_day(days[-1])}: {total} handoffs ({parts})"
    return Chart(name="outcomes", title=title, alt=alt, png=_png(figure))


def _day(day: date) -> str:
    return day.strftime("%d %b")


def review_time_chart(data: ChartData) -> Chart:
    """The share of decided cases decided within each review time (log scale), p50/p90."""
    title = f"{data.workflow}: review time"
    figure = Figure(figsize=SIZE, layout="constrained")
    total = sum(data.review_ms.values())
    if not total:
        png = _nothing(figure, title, "No decisions in this window")
        return Chart(name="review-time", title=title, alt=f"{title}: none", png=png)
    axes = figure.subplots()
    seconds, shares, seen = [], [], 0
    for bucket in sorted(data.review_ms):
        seen += data.review_ms[bucket]
        seconds.append(max(bucket, 100) / 1000)
        shares.append(seen / total)
    axes.step(seconds, shares, where="post", color="#1565c0")
    axes.set_xscale("log")
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("seconds from handoff to decision (log scale)")
    axes.set_ylabel("share of decided cases")
    marks = []
    for percent in (50, 90):
        at = next(s for s, share in zip(seconds, shares, strict=True) if share >= percent / 100)
        axes.axvline(at, color="#999999", linestyle="--", linewidth=1)
        axes.text(at, 0.03 + percent / 200, f" p{percent} {_duration(at)}", fontsize=8)
        marks.append(f"p{percent} {_duration(at)}")
    axes.set_title(f"{title} ({total} decided)")
    alt = f"{title} over {total} decided cases: {', '.join(marks)}"
    return Chart(name="review-time", title=title, alt=alt, png=_png(figure))


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def calibration_chart(data: ChartData, *, target: float) -> Chart:
    """Per action, the share approved unchanged in each confidence band, beside the target."""
    title = f"{data.workflow}: confidence calibration"
    figure = Figure(figsize=SIZE, layout="constrained")
    drawn = []
    axes = None
    for action in data.calibration:
        points = [(b.low, b.high, b.rate) for b in action.bands if b.rate.value is not None]
        if not points:
            continue
        if axes is None:
            axes = figure.subplots()
        xs = [(low + high) / 2 for low, high, _ in points]
        ys = [rate.value or 0.0 for _, _, rate in points]
        axes.plot(xs, ys, marker="o", label=action.action)
        drawn.append(action.action)
    if axes is None:
        png = _nothing(figure, title, "Not enough decided cases with a confidence")
        return Chart(name="calibration", title=title, alt=f"{title}: not enough data", png=png)
    axes.plot([0, 1], [0, 1], color="#bbbbbb", linestyle=":", label="perfectly calibrated")
    axes.axhline(target, color="#2e7d32", linestyle="--", linewidth=1, label=f"target {target:g}")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("confidence the automation gave")
    axes.set_ylabel("share approved unchanged")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=8)
    alt = f"{title}: share approved unchanged by confidence band for {', '.join(drawn)}"
    return Chart(name="calibration", title=title, alt=alt, png=_png(figure))


def render_charts(data: ChartData, *, target: float) -> list[Chart]:
    """Every chart of the report, in reading order. CPU-bound: call it off the event loop."""
    return [outcomes_chart(data), review_time_chart(data), calibration_chart(data, target=target)]
