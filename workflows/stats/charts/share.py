"""Queue the charts to Slack: an outbox row that names what to draw, drawn when sent.

Like every Slack write, the row is added in the caller's transaction and delivered exactly
once by the outbox (``slack.upload``); the ref names the workflow, the window and its end,
so the pictures show that window whenever the row goes out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from workflows.delivery import outbox
from workflows.errors import NotFound

STATS_CHARTS_RENDER = "stats_charts"


def charts_ref(workflow: str, *, end: datetime, since: timedelta) -> str:
    """``ticket-triage@2026-03-02T09:00:00+00:00@2592000``: the window, to the second."""
    return f"{workflow}@{end.isoformat()}@{int(since.total_seconds())}"


def parse_charts_ref(ref: str) -> tuple[str, datetime, timedelta]:
    head, _, seconds = ref.rpartition("@")
    workflow, _, end = head.rpartition("@")
    try:
        return workflow, datetime.fromisoformat(end), timedelta(seconds=int(seconds))
    except ValueError:
        raise NotFound(f"no charts '{ref}'", details=[{"loc": "ref"}]) from None


async def queue_stats_charts(
    db: AsyncSession,
    *,
    key: str,
    channel: str,
    workflow: str,
    end: datetime,
    since: timedelta,
    now: datetime,
    thread_of: str | None = None,
) -> None:
    """Queue the charts of ``workflow`` over ``since`` before ``end`` to ``channel`` (a
    channel, or a person's ID for their DM), in the thread of ``thread_of`` when given."""
    await outbox.upload_files(
        db,
        key=key,
        channel=channel,
        render=STATS_CHARTS_RENDER,
        ref=charts_ref(workflow, end=end, since=since),
        now=now,
        workflow=workflow,
        thread_of=thread_of,
    )
