"""``handrail stats --html FILE``: one file that opens anywhere, offline.

The charts are embedded as ``data:`` URIs and the styles inline, so the page fetches
nothing; every text (workflow names, action names, corrections quoted from reviewers) is
HTML-escaped, because it may come from model output or from people.
"""

from __future__ import annotations

import base64
from html import escape
from typing import TYPE_CHECKING

from workflows.stats.report import StatsReport

if TYPE_CHECKING:  # the drawing module imports matplotlib; only its type is needed here
    from workflows.stats.charts.render import Chart

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}"
    "figure{margin:1.5rem 0}img{max-width:100%;border:1px solid #ddd}"
    "pre{background:#f6f6f6;padding:1rem;overflow-x:auto}"
)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html_report(report: StatsReport, *, charts: list[Chart], text: str) -> str:
    """The page: a heading, the charts with their descriptions, then ``text`` (the same
    tables ``handrail stats`` prints) as preformatted text."""
    title = f"Review metrics of {report.workflow}"
    window = f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC"
    figures = "\n".join(
        f'<figure><img src="{data_uri(chart.png)}" alt="{escape(chart.alt)}">'
        f"<figcaption>{escape(chart.alt)}</figcaption></figure>"
        for chart in charts
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{escape(title)}</h1>\n<p>{escape(window)}</p>\n{figures}\n"
        f"<pre>{escape(text)}</pre>\n</body></html>\n"
    )
