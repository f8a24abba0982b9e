"""The charts of the review metrics, drawn from recorded history on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from tests.stats_harness import Case, seed
from tests.test_stats_report import stats
from workflows.clock import ManualClock
from workflows.stats.charts.data import load_chart_data
from workflows.stats.charts.html import html_report
from workflows.stats.charts.render import render_charts

Client = TestClient[Any, Any]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def history(client: Client, services: Services, clock: ManualClock) -> ManualClock:
    clock.advance(days=3)
    return clock


async def test_outcomes_are_counted_per_day(history: ManualClock, services: Services) -> None:
    """Each UTC day holds the handoffs opened on it, by what became of them."""
    two_days_ago = history() - timedelta(days=2)
    await seed(services, [Case(), Case(outcome="edited"), Case(outcome=None)], at=two_days_ago)
    await seed(
        services,
        [Case(outcome="rejected"), Case(outcome="pending")],
        at=history() - timedelta(hours=1),
    )
    report = await stats(services)
    async with services.readers() as db:
        data = await load_chart_data(db, report=report)
    assert data.days[two_days_ago.date()] == {"approved": 1, "edited": 1}
    assert data.days[(history() - timedelta(hours=1)).date()] == {"rejected": 1, "pending": 1}
    assert sum(data.review_ms.values()) == report.overall.decided


async def test_every_chart_renders_as_png(history: ManualClock, services: Services) -> None:
    """Three PNG charts with descriptions that carry the figures they show."""
    cases = [Case(confidence=0.95) for _ in range(30)] + [Case(outcome="edited") for _ in range(5)]
    await seed(services, cases, at=history() - timedelta(days=1))
    report = await stats(services)
    async with services.readers() as db:
        charts = render_charts(await load_chart_data(db, report=report), target=report.target)
    assert [chart.name for chart in charts] == ["outcomes", "review-time", "calibration"]
    assert all(chart.png.startswith(PNG) for chart in charts)
    assert "35 handoffs (30 approved, 5 edited)" in charts[0].alt
    assert "35 decided" in charts[1].alt
    assert "send_reply" in charts[2].alt


async def test_charts_of_an_empty_window_say_so(history: ManualClock, services: Services) -> None:
    """No data still draws a picture, which says there is nothing to show."""
    report = await stats(services)
    async with services.readers() as db:
        charts = render_charts(await load_chart_data(db, report=report), target=report.target)
    assert all(chart.png.startswith(PNG) for chart in charts)
    assert [chart.alt.rsplit(": ", 1)[1] for chart in charts] == [
        "none",
        "none",
        "not enough data",
    ]


async def test_the_html_report_escapes_every_text(history: ManualClock, services: Services) -> None:
    """Text that looks like markup reaches the page as text, the charts as data URIs."""
    report = await stats(services)
    async with services.readers() as db:
        charts = render_charts(await load_chart_data(db, report=report), target=report.target)
    page = html_report(report, charts=charts, text="<script>alert(1)</script>")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('src="data:image/png;base64,') == 3
