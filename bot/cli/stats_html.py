"""Write ``handrail stats --html FILE``: the report page, whole or not at all."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from bot.cli.stats_text import render_stats
from bot.services import Services
from workflows.errors import InvalidInput
from workflows.stats.charts.data import load_chart_data
from workflows.stats.charts.html import html_report
from workflows.stats.report import StatsReport


async def write_html_report(services: Services, report: StatsReport, *, path: Path) -> None:
    """Read the charts' data, draw them off the event loop, and replace ``path`` atomically
    (a temporary file beside it, then a rename), so a failure leaves no half-written page."""
    from workflows.stats.charts.render import render_charts  # matplotlib: only when drawing

    async with services.readers() as db:
        data = await load_chart_data(db, report=report)
    charts = await asyncio.to_thread(render_charts, data, target=report.target)
    page = html_report(report, charts=charts, text=render_stats(report, suggest_only=False))
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, scratch = tempfile.mkstemp(prefix=".handrail-stats-", suffix=".html", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(scratch, path)
    except OSError as error:
        raise InvalidInput(
            f"cannot write {path}: {error.strerror or error}; pick a folder that exists and "
            "that you may write to",
            details=[{"loc": "html", "value": str(path)[:200]}],
        ) from None
