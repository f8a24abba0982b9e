"""``/handrail status``: what is stopped, what waits for people, what is on fire, what is stuck.

One read of four small grouped queries, limited to the workflows the person is on (the
outbox backlog is installation-wide: it is the same pipe for everyone).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import status as rows
from store.repositories import workflows as workflow_rows
from workflows.pause.state import ALL_WORKFLOWS

ALERTS_SHOWN = 10

#: The outbox states ``read_backlog`` counts: everything not yet delivered.
BACKLOG_STATES = rows.BACKLOG


@dataclass(frozen=True, slots=True, kw_only=True)
class PausedLine:
    target: str
    """A workflow name, or ``ALL_WORKFLOWS``."""
    paused_by: str
    paused_at: datetime
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingLine:
    workflow: str
    count: int
    oldest_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertLine:
    workflow: str
    rule: str
    title: str
    count: int
    last_seen: datetime
    last_run_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BacklogLine:
    status: str
    count: int
    oldest_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusView:
    now: datetime
    workflows: tuple[str, ...]
    paused: tuple[PausedLine, ...]
    pending: tuple[PendingLine, ...]
    alerts: tuple[AlertLine, ...]
    backlog: tuple[BacklogLine, ...]


async def read_status(db: AsyncSession, *, workflows: Collection[str], now: datetime) -> StatusView:
    """The status of ``workflows`` (and the pause on all, which stops them too)."""
    visible = set(workflows) | {ALL_WORKFLOWS}
    paused = [
        PausedLine(
            target=row.name,
            paused_by=row.paused_by or "someone",
            paused_at=row.paused_at,
            reason=row.paused_reason,
        )
        for row in await workflow_rows.list_paused_workflows(db)
        if row.name in visible and row.paused_at is not None
    ]
    pending = await read_pending(db, workflows)
    alerts = [
        AlertLine(
            workflow=alert.workflow,
            rule=alert.rule,
            title=alert.title,
            count=alert.count,
            last_seen=alert.last_seen,
            last_run_id=alert.last_run_id,
        )
        for alert in await rows.list_firing_alerts(db, workflows, limit=ALERTS_SHOWN)
    ]
    backlog = await read_backlog(db)
    return StatusView(
        now=now,
        workflows=tuple(sorted(workflows)),
        paused=tuple(sorted(paused, key=lambda p: (p.target != ALL_WORKFLOWS, p.target))),
        pending=pending,
        alerts=tuple(alerts),
        backlog=backlog,
    )


async def read_pending(db: AsyncSession, workflows: Collection[str]) -> tuple[PendingLine, ...]:
    """Handoffs waiting for a person, per workflow of ``workflows`` that has any."""
    return tuple(
        PendingLine(workflow=name, count=count, oldest_at=oldest)
        for name, count, oldest in await rows.count_pending_handoffs(db, workflows)
    )


async def read_backlog(db: AsyncSession) -> tuple[BacklogLine, ...]:
    """Outbox rows not yet delivered, per state that has any, in order of state."""
    return tuple(
        sorted(
            (
                BacklogLine(status=status, count=count, oldest_at=oldest)
                for status, count, oldest in await rows.count_outbox_backlog(db)
            ),
            key=lambda line: line.status,
        )
    )
