"""What an alert's messages show, as a plain snapshot: no session, no Slack.

Filled from the alert row when the outbox worker renders a message, so an update queued
during an outage shows the alert as it is when it finally goes out. Titles and samples
are raw text from automations; the builders escape them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Alert
from store.repositories import alerts as repo
from workflows.errors import NotFound
from workflows.pause.state import pause_state
from workflows.policy import PauseState

RULE_LABELS = {
    "repeated_error": "Repeated error",
    "latency": "Slow calls",
    "error_rate": "Error rate",
    "token_spike": "Token spike",
    "stale_handoff": "Stale handoff",
    "credential_misuse": "Revoked token in use",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    """One alert as its message shows it."""

    id: str
    workflow: str
    rule: str
    status: str
    """``firing``, ``acknowledged`` or ``resolved``."""
    title: str
    threshold: str | None
    count: int
    first_seen: datetime
    last_seen: datetime
    last_run_id: str | None
    sample: str | None
    created_at: datetime
    snoozed_until: datetime | None
    snoozed_by: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    """A Slack user ID, or ``None`` when the alert resolved itself."""
    clear_since: datetime | None
    details: dict[str, Any]
    paused: PauseState | None
    """The pause in force on the workflow while the alert is open; who and why, not text."""

    @property
    def rule_label(self) -> str:
        return RULE_LABELS.get(self.rule, self.rule.replace("_", " ").capitalize())

    @property
    def is_open(self) -> bool:
        return self.status != repo.RESOLVED


def alert_view(alert: Alert, *, paused: PauseState | None = None) -> AlertView:
    return AlertView(
        id=alert.id,
        workflow=alert.workflow,
        rule=alert.rule,
        status=alert.status,
        title=alert.title,
        threshold=alert.threshold,
        count=alert.count,
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        last_run_id=alert.last_run_id,
        sample=alert.sample,
        created_at=alert.created_at,
        snoozed_until=alert.snoozed_until,
        snoozed_by=alert.snoozed_by,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        escalated_at=alert.escalated_at,
        resolved_at=alert.resolved_at,
        resolved_by=alert.resolved_by,
        clear_since=alert.clear_since,
        details=dict(alert.details or {}),
        paused=paused,
    )


async def get_alert_of(db: AsyncSession, alert_id: str) -> Alert:
    """The alert, or ``NotFound`` saying so in words a person clicking a button can use."""
    alert = await repo.get_alert(db, alert_id)
    if alert is None:
        raise NotFound(
            f"This alert no longer exists ({alert_id}); nothing was changed.",
            details=[{"loc": "alert_id", "alert_id": alert_id}],
        )
    return alert


async def load_alert_view(db: AsyncSession, alert_id: str) -> AlertView:
    """The alert as it stands now, with the pause banner of its workflow while open."""
    alert = await get_alert_of(db, alert_id)
    paused = None
    if alert.status != repo.RESOLVED:
        paused = await pause_state(db, alert.workflow)
    return alert_view(alert, paused=paused)
