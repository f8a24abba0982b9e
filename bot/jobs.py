"""The scheduled jobs: plain async functions of the services, with time from its clock.

The scheduler (``bot/scheduler.py``) binds each to the services with
``functools.partial`` and runs it under a lease; tests call them directly after moving a
``ManualClock``, never by waiting. Each writes in its own unit of work and wakes the outbox
worker after the commit when it queued anything.
"""

from __future__ import annotations

import logging

from bot.services import Services
from store.repositories.tallies import TallyFolder
from workflows.alerts.lifecycle import TickReport
from workflows.alerts.stale import remind_stale_handoffs
from workflows.alerts.tick import evaluate_alerts
from workflows.alerts.tokens import send_credential_reminders
from workflows.digest.review import queue_weekly_digests
from workflows.lifecycle.retention import PurgeReport, batch_pause, purge_expired
from workflows.review.handoffs import expire_overdue

log = logging.getLogger("handrail.jobs")


async def alert_tick(services: Services) -> TickReport:
    """Evaluate every workflow's alert rules once (every 30 seconds)."""
    report = await evaluate_alerts(
        sessions=services.sessions,
        readers=services.readers,
        config=services.config,
        now=services.clock(),
    )
    changed = {name: ids for name in report.__slots__ if (ids := getattr(report, name))}
    if changed:
        log.info("alerts: %s", ", ".join(f"{name} {len(ids)}" for name, ids in changed.items()))
        services.wake_outbox()
    return report


async def handoff_check(services: Services) -> tuple[int, int]:
    """Expire overdue handoffs and remind reviewers of stale ones: (expired, reminded)."""
    now = services.clock()
    # Two units of work: an expiry holds the audit chain's lock until it commits, and a
    # reminder waiting there on a handoff a click has claimed would close a circle.
    async with services.sessions() as db, db.begin():
        expired = await expire_overdue(db, config=services.config, now=now)
    async with services.sessions() as db, db.begin():
        reminded = await remind_stale_handoffs(db, config=services.config, now=now)
    if expired or reminded:
        log.info("handoffs: %d expired, %d reminded", len(expired), reminded)
        services.wake_outbox()
    return len(expired), reminded


async def weekly_digest(services: Services) -> int:
    """Queue the weekly failure review of every workflow; returns the messages queued."""
    async with services.sessions() as db, db.begin():
        queued = await queue_weekly_digests(db, config=services.config, now=services.clock())
    if queued:
        services.wake_outbox()
    return queued


async def credential_reminders(services: Services) -> int:
    """Queue reminders about tokens that expire soon or are due for rotation."""
    async with services.sessions() as db, db.begin():
        queued = await send_credential_reminders(db, config=services.config, now=services.clock())
    if queued:
        services.wake_outbox()
    return queued


async def retention_purge(services: Services) -> PurgeReport:
    """Delete runs and audit entries past their workflow's retention, in small batches."""
    report = await purge_expired(
        services.sessions,
        config=services.config,
        now=services.clock(),
        pause=batch_pause(services.engine.dialect.name),
    )
    for workflow, counts in report.deleted.items():
        log.info(
            "retention: %s: %s",
            workflow,
            ", ".join(f"{count} {table}" for table, count in sorted(counts.items())),
        )
    return report


async def fold_tallies(services: Services, folder: TallyFolder) -> int:
    """Fold the stats tallies' new deltas into one row per key (``store.repositories.tallies``)."""
    async with services.sessions() as db, db.begin():
        folded = await folder.fold(db)
    if folded:
        log.debug("tallies: folded %d day(s)", folded)
    return folded
