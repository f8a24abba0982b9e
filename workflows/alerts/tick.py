"""One evaluation tick: measure every workflow's rules, then apply what changed.

Measuring only reads, in a read session (on SQLite it never queues for the write lock);
the changes are then written in one short transaction, and only when there is something
to write (a finding or an open alert). Every write is conditional, so the read-then-write
gap is safe: a change made meanwhile by a click or another instance makes ours a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.engine import Sessions
from store.models import Alert
from store.repositories import alerts as repo
from workflows.alerts import event_rules, stale, tokens
from workflows.alerts.findings import Finding
from workflows.alerts.lifecycle import TickReport, apply_findings, follow_up, last_resolutions
from workflows.config.brief import HandrailConfig


def resolution_lookback(config: HandrailConfig) -> timedelta:
    """How far back a resolution can still hide occurrences from a new alert.

    Rules never look further back than their own window (a stale handoff: its review
    timeout), so older resolutions cannot matter and are not read.
    """
    spans = [timedelta(hours=1)]
    for policy in config.workflows.values():
        rules = policy.alerts
        spans += [
            rules.repeated_error.window,
            rules.latency.window,
            rules.error_rate.window,
            rules.token_spike.window,
            rules.credentials.misuse_window,
            policy.review_timeout,
        ]
    return max(spans)


async def measure(
    db: AsyncSession, *, config: HandrailConfig, now: datetime
) -> dict[str, list[Finding]]:
    """Everything every workflow's rules see now, by workflow (reads only)."""
    policies = config.workflows
    findings: dict[str, list[Finding]] = {name: [] for name in policies}
    for rule in (
        event_rules.repeated_errors,
        event_rules.slow_calls,
        event_rules.failing_calls,
        event_rules.token_spikes,
        stale.stale_handoffs,
    ):
        for workflow, found in (await rule(db, policies=policies, now=now)).items():
            findings[workflow] += found
    for workflow, found in (await tokens.misused_tokens(db, config=config, now=now)).items():
        findings[workflow] += found
    return findings


async def evaluate_alerts(
    *, sessions: Sessions, readers: Sessions, config: HandrailConfig, now: datetime
) -> TickReport:
    """Evaluate every configured workflow once at ``now``; safe to repeat."""
    async with readers() as db:
        open_alerts = await repo.list_open_alerts(db)
        resolved = await repo.list_resolved_since(db, now - resolution_lookback(config))
        findings = await measure(db, config=config, now=now)
    report = TickReport()
    open_by_workflow: dict[str, list[Alert]] = defaultdict(list)
    for alert in open_alerts:
        open_by_workflow[alert.workflow].append(alert)
    if not any(findings.values()) and not any(
        workflow in config.workflows for workflow in open_by_workflow
    ):
        return report
    resolutions = last_resolutions(resolved)
    async with sessions() as db, db.begin():
        for workflow, policy in config.workflows.items():
            report.merge(
                await apply_findings(
                    db,
                    workflow=workflow,
                    policy=policy,
                    findings=findings[workflow],
                    open_alerts=open_by_workflow.get(workflow, []),
                    resolved_at=resolutions,
                    now=now,
                )
            )
        for alert in open_alerts:
            policy_or_none = config.workflow(alert.workflow)
            if policy_or_none is not None and alert.id not in report.resolved:
                await follow_up(db, alert=alert, policy=policy_or_none, now=now, report=report)
    return report
