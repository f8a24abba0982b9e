"""The in-process scheduler: alert rules, stale handoffs, the weekly review, token reminders,
the retention purge, folding the stats tallies.

APScheduler 3's ``AsyncIOScheduler`` fires the jobs of ``bot/jobs.py`` on the app's event
loop. Several Handrail instances may run it side by side (PostgreSQL, behind a load
balancer): each job first takes its lease row (``store.repositories.leases``), and only
the instance that holds it runs the job, so rules are evaluated once per tick and the
digest goes out once. The holder renews its lease every run; if it stops, another
instance takes over when the lease runs out (or at once, when it shut down cleanly).

The outbox needs no sweep job here: its worker polls for due rows on its own.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import jobs
from bot.services import Services
from store.engine import Sessions
from store.repositories import leases
from store.repositories.tallies import TallyFolder
from workflows.clock import Clock
from workflows.identifiers import new_id

log = logging.getLogger("handrail.scheduler")

ALERT_INTERVAL = timedelta(seconds=30)
HANDOFF_INTERVAL = timedelta(seconds=60)
RETENTION_INTERVAL = timedelta(hours=1)
TALLY_FOLD_INTERVAL = timedelta(minutes=5)


@dataclass(slots=True)
class SchedulerState:
    """The running scheduler of an app (set on start-up), for inspection and tests."""

    scheduler: AsyncIOScheduler | None = None
    holder: str | None = None


SCHEDULER = web.AppKey("scheduler", SchedulerState)


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job, when it fires, and how long its lease lasts once taken."""

    name: str
    trigger: BaseTrigger
    run: Callable[[], Awaitable[object]]
    lease: timedelta


def new_holder() -> str:
    """This instance's name on the leases it takes: host, process and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_leased(
    name: str,
    run: Callable[[], Awaitable[object]],
    *,
    sessions: Sessions,
    clock: Clock,
    holder: str,
    lease: timedelta,
) -> bool:
    """Run ``run`` if this instance holds (or now takes) the lease ``name``; True if it ran.

    A failing job is logged with an error ID and does not stop the scheduler.
    """
    async with sessions() as db, db.begin():
        held = await leases.take_lease(db, name=name, holder=holder, now=clock(), ttl=lease)
    if not held:
        return False
    try:
        await run()
    except Exception:  # one bad run must not stop the next; it is in the log
        log.exception("scheduled job %s failed (error ID %s)", name, new_id("err"))
    return True


def scheduled_jobs(services: Services, *, timezone: ZoneInfo) -> list[ScheduledJob]:
    """Every job with its trigger; times of day are in the team's time zone."""
    day, at = services.settings.digest_schedule.split()
    hour, minute = (int(part) for part in at.split(":"))
    return [
        ScheduledJob(
            "alerts",
            IntervalTrigger(seconds=ALERT_INTERVAL.total_seconds(), timezone=timezone),
            partial(jobs.alert_tick, services),
            lease=ALERT_INTERVAL * 3,
        ),
        ScheduledJob(
            "handoffs",
            IntervalTrigger(seconds=HANDOFF_INTERVAL.total_seconds(), timezone=timezone),
            partial(jobs.handoff_check, services),
            lease=HANDOFF_INTERVAL * 3,
        ),
        ScheduledJob(
            "weekly-digest",
            CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=timezone),
            partial(jobs.weekly_digest, services),
            lease=timedelta(hours=1),
        ),
        ScheduledJob(
            "credential-reminders",
            CronTrigger(hour=hour, minute=minute, timezone=timezone),
            partial(jobs.credential_reminders, services),
            lease=timedelta(hours=1),
        ),
        ScheduledJob(
            "retention",
            IntervalTrigger(seconds=RETENTION_INTERVAL.total_seconds(), timezone=timezone),
            partial(jobs.retention_purge, services),
            lease=RETENTION_INTERVAL,
        ),
        ScheduledJob(
            "tally-fold",
            IntervalTrigger(seconds=TALLY_FOLD_INTERVAL.total_seconds(), timezone=timezone),
            partial(jobs.fold_tallies, services, TallyFolder()),
            lease=TALLY_FOLD_INTERVAL * 3,
        ),
    ]


def build_scheduler(services: Services, *, holder: str) -> AsyncIOScheduler:
    """The scheduler with every job added (not started: ``start()`` needs a running loop)."""
    timezone = ZoneInfo(services.settings.timezone)
    scheduler = AsyncIOScheduler(timezone=timezone)
    for job in scheduled_jobs(services, timezone=timezone):
        scheduler.add_job(
            partial(
                run_leased,
                job.name,
                job.run,
                sessions=services.sessions,
                clock=services.clock,
                holder=holder,
                lease=job.lease,
            ),
            trigger=job.trigger,
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(job.lease.total_seconds()),
        )
    return scheduler


def mount_scheduler(app: web.Application, services: Services) -> None:
    """Start the scheduler with the app and stop it (giving up its leases) before the
    engine is disposed; ``cleanup_ctx`` runs its clean-up ahead of ``on_cleanup``."""

    state = SchedulerState()
    app[SCHEDULER] = state

    async def scheduler_context(_app: web.Application) -> AsyncIterator[None]:
        state.holder = holder = new_holder()
        state.scheduler = scheduler = build_scheduler(services, holder=holder)
        scheduler.start()
        log.info("scheduler started as %s", holder)
        yield
        scheduler.shutdown(wait=False)
        state.scheduler = None
        async with services.sessions() as db, db.begin():
            await leases.release_leases(db, holder=holder)

    app.cleanup_ctx.append(scheduler_context)
