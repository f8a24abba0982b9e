"""The outbox's upload renderer for the review metrics' charts (``slack.upload`` rows).

matplotlib takes a second or more to import, so it is imported on the first upload rather
than by every ``handrail`` command and server start. Drawing is CPU work (a few hundred
milliseconds for three charts), so it runs in a thread and the worker's event loop keeps
serving other deliveries meanwhile.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from bot.renderers.registry import Renderers, Upload, UploadFile
from workflows.config.brief import HandrailConfig
from workflows.stats.charts.data import load_chart_data
from workflows.stats.charts.share import STATS_CHARTS_RENDER, parse_charts_ref
from workflows.stats.report import build_stats


def register_chart_uploads(renderers: Renderers, *, config: HandrailConfig) -> None:
    """Add the charts' upload renderer to the outbox worker's registry."""

    async def render(db: AsyncSession, ref: str) -> Upload:
        # matplotlib is imported on the first upload, not by every process that serves.
        from workflows.stats.charts.render import render_charts

        workflow, end, since = parse_charts_ref(ref)
        report = await build_stats(
            db, config=config, workflow=workflow, since=since, split=None, now=end
        )
        data = await load_chart_data(db, report=report)
        charts = await asyncio.to_thread(render_charts, data, target=report.target)
        days = max(round(since.total_seconds() / 86400), 1)
        return Upload(
            files=[
                UploadFile(name=chart.name, title=chart.title, alt=chart.alt, data=chart.png)
                for chart in charts
            ],
            comment=f"Charts of {workflow}'s review metrics, last {days} days to "
            f"{end:%Y-%m-%d %H:%M} UTC",
        )

    renderers.register_upload(STATS_CHARTS_RENDER, render)
