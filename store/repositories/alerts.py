"""Alert rows: every change of state is one conditional statement, decided in SQL.

``open_key`` is unique and set only while an alert is open, so "one open alert per
workflow, rule and fingerprint" is the database's rule: raising an alert is an
``INSERT … ON CONFLICT (open_key) DO UPDATE``, and resolving it clears the key so the next
fire inserts a new row. The other transitions (acknowledge, snooze, escalate, repeat,
resolve) are ``UPDATE … WHERE <the state it moves from>``: they report whether they
happened, so two clicks, two evaluators or a retried tick never act twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Alert

FIRING = "firing"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"


def open_key(workflow: str, rule: str, fingerprint: str) -> str:
    return f"{workflow}|{rule}|{fingerprint}"


async def get_alert(db: AsyncSession, alert_id: str) -> Alert | None:
    return await db.get(Alert, alert_id)


async def list_open_alerts(db: AsyncSession) -> Sequence[Alert]:
    """Every open alert of every workflow (a short list: one per live problem)."""
    result = await db.execute(
        select(Alert).where(Alert.status.in_((FIRING, ACKNOWLEDGED))).order_by(Alert.created_at)
    )
    return result.scalars().all()


async def list_resolved_since(db: AsyncSession, since: datetime) -> Sequence[Alert]:
    """Alerts resolved at or after ``since`` (through ``ix_alerts_resolved_at``)."""
    result = await db.execute(select(Alert).where(Alert.resolved_at >= since))
    return result.scalars().all()


async def upsert_open_alert(
    db: AsyncSession,
    *,
    values: dict[str, Any],
    increment: int,
) -> tuple[str, bool] | None:
    """Open the alert, or add ``increment`` to the open one with the same key (another
    evaluator opened it a moment ago).

    Returns ``(alert_id, inserted)``, or ``None`` when the open alert already holds these
    occurrences (its ``last_seen`` is not older): counts never go up twice for one event.
    """
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert(Alert) if dialect == "postgresql" else sqlite.insert(Alert)
    stmt = insert.values(**values)
    excluded = stmt.excluded
    upsert = stmt.on_conflict_do_update(
        index_elements=[Alert.open_key],
        set_={
            "count": Alert.count + increment,
            "last_seen": excluded.last_seen,
            "last_run_id": excluded.last_run_id,
            "sample": excluded.sample,
            "title": excluded.title,
            "threshold": excluded.threshold,
            "details": excluded.details,
            "clear_since": None,
        },
        where=Alert.last_seen < excluded.last_seen,
    ).returning(Alert.id)
    alert_id = (await db.execute(upsert)).scalar_one_or_none()
    if alert_id is None:
        return None
    return str(alert_id), alert_id == values["id"]


async def add_occurrences(
    db: AsyncSession,
    alert_id: str,
    *,
    increment: int,
    expected_last_seen: datetime,
    values: dict[str, Any],
) -> bool:
    """Count ``increment`` more occurrences on an open alert and show the latest ones.

    Applies only if the alert is still open and still at the ``last_seen`` it was read
    with, so a tick racing a click or another tick never counts an event twice.
    """
    return await _change(
        db,
        alert_id,
        is_open(),
        Alert.last_seen == expected_last_seen,
        count=Alert.count + increment,
        clear_since=None,
        **values,
    )


async def _change(db: AsyncSession, alert_id: str, *where: Any, **values: Any) -> bool:
    result = await db.execute(update(Alert).where(Alert.id == alert_id, *where).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def is_open() -> ColumnElement[bool]:
    return Alert.open_key.is_not(None)


async def set_clear_since(db: AsyncSession, alert_id: str, now: datetime) -> bool:
    """Note when the condition stopped holding (first time only)."""
    return await _change(db, alert_id, is_open(), Alert.clear_since.is_(None), clear_since=now)


async def reset_clear_since(db: AsyncSession, alert_id: str) -> bool:
    """The condition holds again before the alert resolved: no flapping."""
    return await _change(db, alert_id, is_open(), Alert.clear_since.is_not(None), clear_since=None)


async def resolve(db: AsyncSession, alert_id: str, *, now: datetime, by: str | None) -> bool:
    """Resolve an open alert and free its key for the next fire."""
    return await _change(
        db,
        alert_id,
        is_open(),
        status=RESOLVED,
        open_key=None,
        resolved_at=now,
        resolved_by=by,
        snoozed_until=None,
        snoozed_by=None,
    )


async def acknowledge(db: AsyncSession, alert_id: str, *, user: str, now: datetime) -> bool:
    """Firing → acknowledged; False when it is not firing any more."""
    return await _change(
        db,
        alert_id,
        is_open(),
        Alert.status == FIRING,
        status=ACKNOWLEDGED,
        acknowledged_by=user,
        acknowledged_at=now,
    )


async def snooze(db: AsyncSession, alert_id: str, *, user: str, until: datetime) -> bool:
    """Mute an open alert until ``until``; a new snooze replaces the old one."""
    return await _change(db, alert_id, is_open(), snoozed_until=until, snoozed_by=user)


async def end_snooze(db: AsyncSession, alert_id: str, *, until: datetime, now: datetime) -> bool:
    """Clear a snooze that ran out (only the one that was read, not a newer one); the
    repeat timer starts again from its end."""
    return await _change(
        db,
        alert_id,
        is_open(),
        Alert.snoozed_until == until,
        snoozed_until=None,
        snoozed_by=None,
        last_notified_at=now,
    )


def _not_snoozed(now: datetime) -> ColumnElement[bool]:
    return or_(Alert.snoozed_until.is_(None), Alert.snoozed_until <= now)


async def mark_escalated(db: AsyncSession, alert_id: str, *, now: datetime) -> bool:
    """Record the escalation of an alert nobody acknowledged; once per alert."""
    return await _change(
        db,
        alert_id,
        is_open(),
        Alert.status == FIRING,
        Alert.escalated_at.is_(None),
        _not_snoozed(now),
        escalated_at=now,
        last_notified_at=now,
    )


async def mark_repeated(
    db: AsyncSession, alert_id: str, *, previous: datetime | None, now: datetime
) -> bool:
    """Record a repeat notification, unless another one was recorded since ``previous``."""
    same = (
        Alert.last_notified_at.is_(None) if previous is None else Alert.last_notified_at == previous
    )
    return await _change(
        db,
        alert_id,
        is_open(),
        Alert.status == FIRING,
        same,
        _not_snoozed(now),
        last_notified_at=now,
    )
