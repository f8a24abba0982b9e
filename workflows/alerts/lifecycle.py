"""From findings to alert state: fire, count, clear, resolve, escalate, repeat.

An alert is firing → acknowledged → resolved, and may be snoozed until a time meanwhile.
People are told only when it matters: the first fire (one message), an escalation
(nobody acknowledged within ``escalate_after``), the resolution, and every
``repeat_interval`` while it keeps firing unacknowledged. Everything else (the count going
up, the latest run) is an in-place update of the one message, which notifies nobody.

Every change is a conditional statement in ``store.repositories.alerts`` whose outcome
decides whether its Slack rows are queued, so the same tick run twice changes nothing the
second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Alert
from store.repositories import alerts as repo
from workflows.alerts import notify
from workflows.alerts.findings import Finding, clear_for
from workflows.config.brief import WorkflowConfig
from workflows.identifiers import new_id


@dataclass(slots=True)
class TickReport:
    """What one evaluation changed, by alert ID (for logs and tests)."""

    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    snooze_ended: list[str] = field(default_factory=list)

    def merge(self, other: TickReport) -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))


def last_resolutions(resolved: Iterable[Alert]) -> dict[tuple[str, str, str], datetime]:
    """Per (workflow, rule, fingerprint): when its latest alert was resolved."""
    latest: dict[tuple[str, str, str], datetime] = {}
    for alert in resolved:
        key = (alert.workflow, alert.rule, alert.fingerprint)
        if alert.resolved_at is not None and (key not in latest or alert.resolved_at > latest[key]):
            latest[key] = alert.resolved_at
    return latest


async def apply_findings(
    db: AsyncSession,
    *,
    workflow: str,
    policy: WorkflowConfig,
    findings: Sequence[Finding],
    open_alerts: Sequence[Alert],
    resolved_at: dict[tuple[str, str, str], datetime],
    now: datetime,
) -> TickReport:
    """Open, count up, hold or resolve this workflow's alerts from what the rules saw."""
    report = TickReport()
    by_key = {(alert.rule, alert.fingerprint): alert for alert in open_alerts}
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        key = (finding.rule, finding.fingerprint)
        seen.add(key)
        alert = by_key.get(key)
        if alert is None:
            resolution = resolved_at.get((workflow, *key))
            await _fire(db, finding, workflow, policy, resolution, now, report)
        else:
            await _update(db, finding, alert, workflow, policy, now, report)
    for key, alert in by_key.items():
        if key not in seen:
            await _clear(db, alert, workflow, policy, now, report)
    return report


async def _fire(
    db: AsyncSession,
    finding: Finding,
    workflow: str,
    policy: WorkflowConfig,
    resolved_at: datetime | None,
    now: datetime,
    report: TickReport,
) -> None:
    """Open a new alert from the occurrences since the last one of its kind resolved."""
    fresh = [t for t in finding.occurrences if resolved_at is None or t > resolved_at]
    if len(fresh) < finding.fire_at:
        return
    values = {
        "id": new_id("alr"),
        "workflow": workflow,
        "rule": finding.rule,
        "fingerprint": finding.fingerprint,
        "open_key": repo.open_key(workflow, finding.rule, finding.fingerprint),
        "status": repo.FIRING,
        "title": finding.title,
        "threshold": finding.threshold,
        "count": len(fresh),
        "first_seen": fresh[0],
        "last_seen": fresh[-1],
        "last_run_id": finding.last_run_id,
        "sample": finding.sample,
        "details": finding.details,
        "created_at": now,
        "last_notified_at": now,
        "escalated_at": now if finding.escalate_now else None,
    }
    changed = await repo.upsert_open_alert(db, values=values, increment=len(fresh))
    if changed is None:
        return
    alert_id, inserted = changed
    if not inserted:  # another evaluator opened it a moment ago: this is an update
        await notify.refresh(
            db, alert_id=alert_id, workflow=workflow, policy=policy, tag=_seen_tag(fresh), now=now
        )
        report.updated.append(alert_id)
        return
    await notify.announce(db, alert_id=alert_id, workflow=workflow, policy=policy, now=now)
    report.opened.append(alert_id)
    if finding.escalate_now:
        await notify.escalate(db, alert_id=alert_id, workflow=workflow, policy=policy, now=now)
        report.escalated.append(alert_id)


async def _update(
    db: AsyncSession,
    finding: Finding,
    alert: Alert,
    workflow: str,
    policy: WorkflowConfig,
    now: datetime,
    report: TickReport,
) -> None:
    """Count the occurrences the alert does not hold yet; stop a clear timer."""
    new = [t for t in finding.occurrences if t > alert.last_seen]
    if not new:
        if alert.clear_since is not None:
            await repo.reset_clear_since(db, alert.id)
        return
    changed = await repo.add_occurrences(
        db,
        alert.id,
        increment=len(new),
        expected_last_seen=alert.last_seen,
        values={
            "last_seen": new[-1],
            "title": finding.title,
            "threshold": finding.threshold,
            "last_run_id": finding.last_run_id,
            "sample": finding.sample,
            "details": finding.details,
        },
    )
    if not changed:
        return
    await notify.refresh(
        db, alert_id=alert.id, workflow=workflow, policy=policy, tag=_seen_tag(new), now=now
    )
    report.updated.append(alert.id)


def _seen_tag(occurrences: Sequence[datetime]) -> str:
    """The update's key part: the newest occurrence it shows, unique per change."""
    return "seen-" + occurrences[-1].strftime("%Y%m%dT%H%M%S.%f")


async def _clear(
    db: AsyncSession,
    alert: Alert,
    workflow: str,
    policy: WorkflowConfig,
    now: datetime,
    report: TickReport,
) -> None:
    """The rule no longer sees it: start the clear timer, or resolve once it ran out."""
    since = alert.clear_since or now
    if now - since >= clear_for(alert.rule, policy):
        if await repo.resolve(db, alert.id, now=now, by=None):
            await announce_resolution(
                db, alert_id=alert.id, workflow=workflow, policy=policy, now=now
            )
            report.resolved.append(alert.id)
    elif alert.clear_since is None:
        await repo.set_clear_since(db, alert.id, now)


async def announce_resolution(
    db: AsyncSession, *, alert_id: str, workflow: str, policy: WorkflowConfig, now: datetime
) -> None:
    """The message shows it resolved, and its thread says so (a notification)."""
    await notify.refresh(
        db, alert_id=alert_id, workflow=workflow, policy=policy, tag="resolved", now=now
    )
    await notify.reply(
        db,
        alert_id=alert_id,
        workflow=workflow,
        policy=policy,
        render=notify.ALERT_RESOLVED_RENDER,
        tag="resolved",
        now=now,
    )


async def follow_up(
    db: AsyncSession, *, alert: Alert, policy: WorkflowConfig, now: datetime, report: TickReport
) -> None:
    """Time-driven steps of an open alert: a snooze running out, escalation, repeats."""
    rules = policy.alerts
    workflow = alert.workflow
    if alert.snoozed_until is not None:
        if alert.snoozed_until > now:
            return  # muted until its end
        if not await repo.end_snooze(db, alert.id, until=alert.snoozed_until, now=now):
            return
        report.snooze_ended.append(alert.id)
        tag = "snooze-over-" + alert.snoozed_until.strftime("%Y%m%dT%H%M%S")
        await notify.refresh(
            db, alert_id=alert.id, workflow=workflow, policy=policy, tag=tag, now=now
        )
        if alert.status != repo.FIRING or alert.clear_since is not None:
            return
        if not _escalation_due(alert, policy, now):
            await notify.reply(
                db,
                alert_id=alert.id,
                workflow=workflow,
                policy=policy,
                render=notify.ALERT_REPEAT_RENDER,
                tag=tag,
                now=now,
            )
            return
    if alert.status != repo.FIRING:
        return  # acknowledged: no repeats, no escalation
    if _escalation_due(alert, policy, now):
        if await repo.mark_escalated(db, alert.id, now=now):
            await notify.escalate(db, alert_id=alert.id, workflow=workflow, policy=policy, now=now)
            report.escalated.append(alert.id)
        return
    last = alert.last_notified_at or alert.created_at
    due = alert.clear_since is None and now - last >= rules.repeat_interval
    if due and await repo.mark_repeated(db, alert.id, previous=alert.last_notified_at, now=now):
        await notify.reply(
            db,
            alert_id=alert.id,
            workflow=workflow,
            policy=policy,
            render=notify.ALERT_REPEAT_RENDER,
            tag="repeat-" + now.strftime("%Y%m%dT%H%M%S"),
            now=now,
        )
        report.repeated.append(alert.id)


def _escalation_due(alert: Alert, policy: WorkflowConfig, now: datetime) -> bool:
    return (
        alert.status == repo.FIRING
        and alert.escalated_at is None
        and now - alert.created_at >= policy.alerts.escalate_after
    )
