"""The scheduler: which jobs run when, and the lease that lets one instance run each job.

Jobs are called directly (``run_leased`` with a ManualClock), never by waiting for
APScheduler to fire them; the scheduler itself is only checked for what it was given.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import ValidationError
from sqlalchemy import select

from bot.app import build_app
from bot.scheduler import SCHEDULER, build_scheduler, run_leased
from bot.services import Services
from bot.settings import Settings
from store.models import Lease
from store.repositories.leases import take_lease
from workflows.clock import ManualClock

LEASE = timedelta(seconds=90)


def counter() -> tuple[list[int], Any]:
    runs: list[int] = []

    async def job() -> None:
        runs.append(1)

    return runs, job


async def test_only_one_of_two_instances_runs_a_job(services: Services) -> None:
    """Two instances firing the same job at the same moment: exactly one runs it."""
    runs, job = counter()
    ran = await asyncio.gather(
        *(
            run_leased(
                "alerts",
                job,
                sessions=services.sessions,
                clock=services.clock,
                holder=holder,
                lease=LEASE,
            )
            for holder in ("instance-a", "instance-b")
        )
    )
    assert sorted(ran) == [False, True]
    assert runs == [1]


async def test_the_holder_renews_and_the_other_waits(
    services: Services, clock: ManualClock
) -> None:
    """The holder keeps running the job on each tick; the other instance keeps skipping it."""
    runs, job = counter()
    common: dict[str, Any] = {"sessions": services.sessions, "clock": clock, "lease": LEASE}
    assert await run_leased("alerts", job, holder="a", **common)
    for _ in range(5):
        clock.advance(seconds=30)
        assert not await run_leased("alerts", job, holder="b", **common)
        assert await run_leased("alerts", job, holder="a", **common)
    assert len(runs) == 6


async def test_another_instance_takes_over_when_the_lease_runs_out(
    services: Services, clock: ManualClock
) -> None:
    """If the holder stops renewing, the lease passes to the other instance after it expires."""
    _, job = counter()
    common: dict[str, Any] = {"sessions": services.sessions, "clock": clock, "lease": LEASE}
    assert await run_leased("alerts", job, holder="a", **common)
    clock.advance(seconds=89)
    assert not await run_leased("alerts", job, holder="b", **common)
    clock.advance(seconds=1)
    assert await run_leased("alerts", job, holder="b", **common)
    async with services.readers() as db:
        lease = (await db.execute(select(Lease))).scalar_one()
    assert (lease.name, lease.holder) == ("alerts", "b")


async def test_leases_of_different_jobs_are_independent(
    services: Services, clock: ManualClock
) -> None:
    """One instance may hold the alert lease while another holds the digest's."""
    async with services.sessions() as db, db.begin():
        assert await take_lease(db, name="alerts", holder="a", now=clock(), ttl=LEASE)
        assert await take_lease(db, name="weekly-digest", holder="b", now=clock(), ttl=LEASE)
        assert not await take_lease(db, name="alerts", holder="b", now=clock(), ttl=LEASE)


async def test_a_failing_job_is_logged_and_keeps_its_lease(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception in a job is logged with an error ID; the scheduler carries on."""

    async def broken() -> None:
        raise RuntimeError("database on fire")

    with caplog.at_level(logging.ERROR, logger="handrail.scheduler"):
        ran = await run_leased(
            "alerts",
            broken,
            sessions=services.sessions,
            clock=services.clock,
            holder="a",
            lease=LEASE,
        )
    assert ran
    assert "scheduled job alerts failed (error ID err_" in caplog.text


def test_jobs_and_their_triggers(services: Services) -> None:
    """Rules every 30 s, handoffs every minute, the review weekly, reminders daily, the
    retention purge hourly and the stats tallies folded every five minutes."""
    scheduler = build_scheduler(services, holder="a")
    jobs = {job.id: job.trigger for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "alerts",
        "handoffs",
        "weekly-digest",
        "credential-reminders",
        "retention",
        "tally-fold",
    }
    assert jobs["retention"].interval == timedelta(hours=1)
    assert jobs["tally-fold"].interval == timedelta(minutes=5)
    assert isinstance(jobs["alerts"], IntervalTrigger)
    assert jobs["alerts"].interval == timedelta(seconds=30)
    assert jobs["handoffs"].interval == timedelta(seconds=60)
    digest = jobs["weekly-digest"]
    assert isinstance(digest, CronTrigger)
    fields = {f.name: str(f) for f in digest.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon", "9", "0")


def test_the_digest_follows_the_team_schedule_and_time_zone(services: Services) -> None:
    """HANDRAIL_DIGEST_SCHEDULE and HANDRAIL_TIMEZONE set the review's day, time and zone."""
    services.settings = services.settings.model_copy(
        update={"digest_schedule": "fri 17:30", "timezone": "Europe/Berlin"}
    )
    scheduler = build_scheduler(services, holder="a")
    digest = scheduler.get_job("weekly-digest").trigger
    fields = {f.name: str(f) for f in digest.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("fri", "17", "30")
    assert str(digest.timezone) == "Europe/Berlin"


def test_a_bad_digest_schedule_stops_start_up() -> None:
    """A schedule that is not "day HH:MM" is refused, naming the setting and an example."""
    with pytest.raises(ValidationError, match="HANDRAIL_DIGEST_SCHEDULE") as caught:
        Settings(HANDRAIL_DIGEST_SCHEDULE="monday 9am")
    assert "write it like 'mon 09:00'" in str(caught.value)


def test_an_unknown_time_zone_stops_start_up() -> None:
    """HANDRAIL_TIMEZONE must be an IANA zone name."""
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(HANDRAIL_TIMEZONE="Mars/Olympus")


async def test_the_app_runs_the_scheduler_and_gives_up_its_leases(services: Services) -> None:
    """build_app starts the scheduler with the app; on shutdown its leases are released."""
    settings = services.settings.model_copy(update={"scheduler_enabled": True})
    app = build_app(settings, services=services, migrate=False)
    async with TestClient(TestServer(app)):
        state = app[SCHEDULER]
        assert state.scheduler is not None
        assert state.scheduler.running
        async with services.sessions() as db, db.begin():
            await take_lease(
                db, name="alerts", holder=str(state.holder), now=services.clock(), ttl=LEASE
            )
    assert state.scheduler is None
    async with services.readers() as db:
        assert (await db.execute(select(Lease))).scalars().all() == []
