"""What on-call does from an alert's buttons: acknowledge, snooze, resolve.

Each is one conditional update; when it does not apply (the alert was resolved, or
someone acknowledged first) the person gets a ``Conflict`` saying who did what and when,
and nothing changes. Role checks happen in the handler before these are called (on-call
or admins of the alert's workflow).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Alert
from store.repositories import alerts as repo
from workflows.alerts import notify
from workflows.alerts.lifecycle import announce_resolution
from workflows.alerts.views import get_alert_of
from workflows.config.brief import WorkflowConfig
from workflows.errors import Conflict, InvalidInput

#: Snoozes people can choose; there is no "for ever": a muted alert must come back.
SNOOZE_CHOICES = {
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
}


def _when(moment: datetime | None) -> str:
    return f" at {moment:%H:%M} UTC" if moment is not None else ""


def not_open(alert: Alert) -> Conflict:
    """The answer to a click on a resolved alert."""
    who = f"by <@{alert.resolved_by}>" if alert.resolved_by else "automatically"
    return Conflict(
        f"This alert was already resolved {who}{_when(alert.resolved_at)}; nothing was "
        "changed. If the problem comes back, a new alert is posted.",
        details=[{"loc": "alert_id", "status": alert.status}],
    )


def ensure_open(alert: Alert) -> None:
    """Raise ``Conflict`` for a resolved alert: nothing on it can be acted on any more."""
    if alert.status == repo.RESOLVED:
        raise not_open(alert)


async def _refused(db: AsyncSession, alert_id: str) -> Conflict:
    """Why a transition did not apply, read after it failed."""
    alert = await get_alert_of(db, alert_id)
    await db.refresh(alert)
    if alert.status == repo.RESOLVED:
        return not_open(alert)
    return Conflict(
        f"This alert was already acknowledged by <@{alert.acknowledged_by}>"
        f"{_when(alert.acknowledged_at)}; nothing was changed.",
        details=[{"loc": "alert_id", "status": alert.status}],
    )


async def acknowledge_alert(
    db: AsyncSession, *, alert_id: str, user: str, policy: WorkflowConfig, now: datetime
) -> Alert:
    """Firing → acknowledged: no more repeats, no escalation; the message says who."""
    alert = await get_alert_of(db, alert_id)
    if not await repo.acknowledge(db, alert_id, user=user, now=now):
        raise await _refused(db, alert_id)
    await notify.refresh(
        db, alert_id=alert_id, workflow=alert.workflow, policy=policy, tag="acknowledged", now=now
    )
    return alert


async def snooze_alert(
    db: AsyncSession,
    *,
    alert_id: str,
    user: str,
    choice: str,
    policy: WorkflowConfig,
    now: datetime,
) -> datetime:
    """Mute the alert's notifications until the chosen time; returns that time."""
    duration = SNOOZE_CHOICES.get(choice)
    if duration is None:
        raise InvalidInput(
            f"cannot snooze for {choice!r}: choose {', '.join(SNOOZE_CHOICES)} "
            "(an alert is never muted for ever)",
            details=[{"loc": "snooze", "value": choice}],
        )
    alert = await get_alert_of(db, alert_id)
    until = now + duration
    if not await repo.snooze(db, alert_id, user=user, until=until):
        raise await _refused(db, alert_id)
    await notify.refresh(
        db,
        alert_id=alert_id,
        workflow=alert.workflow,
        policy=policy,
        tag="snoozed-" + until.strftime("%Y%m%dT%H%M%S"),
        now=now,
    )
    return until


async def resolve_alert(
    db: AsyncSession, *, alert_id: str, user: str, policy: WorkflowConfig, now: datetime
) -> Alert:
    """Resolve by hand; if the problem goes on, the next fire is a new alert."""
    alert = await get_alert_of(db, alert_id)
    if not await repo.resolve(db, alert_id, now=now, by=user):
        raise await _refused(db, alert_id)
    await announce_resolution(
        db, alert_id=alert_id, workflow=alert.workflow, policy=policy, now=now
    )
    return alert
