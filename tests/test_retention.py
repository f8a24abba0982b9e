"""The retention purge: old runs go whole, with everything about them; runs in use stay."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import prepare_database
from bot.services import Services
from store.repositories.audit import create_audit_entry
from tests.conftest import TEST_WORKFLOWS, MakeToken, bearer
from tests.lifecycle_data import audit_entries, orphan_steps, rows_of, seed_run
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config
from workflows.lifecycle.retention import PURGED, batch_pause, purge_expired

RETENTION = timedelta(days=90)


@pytest.fixture
def config() -> HandrailConfig:
    """ticket-triage keeps runs 90 days; invoice-extraction keeps all; the audit log is kept."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    raw["workflows"]["ticket-triage"].update({"retention": "90d"})
    return parse_config(raw)


@pytest.fixture
async def store(services: Services) -> Services:
    await prepare_database(services, migrate=False)
    return services


async def test_purge_deletes_old_runs_with_everything_they_left(
    store: Services, clock: ManualClock
) -> None:
    """A finished run older than the retention goes with its steps, handoff, decision,
    outbox rows, parked job and alert sample; a recent one is untouched."""
    now = clock()
    await seed_run(store, "old", started_at=now - RETENTION - timedelta(days=1))
    await seed_run(store, "recent", started_at=now - RETENTION + timedelta(days=1))
    report = await purge_expired(store.sessions, config=store.config, now=now, pause=0)
    assert set((await rows_of(store, ["old"])).values()) == {0}
    assert set((await rows_of(store, ["recent"])).values()) == {1, 3}  # 3 steps, 1 of each
    assert report.deleted["ticket-triage"]["runs"] == 1
    assert report.deleted["ticket-triage"]["events"] == 3


async def test_purge_keeps_runs_still_in_use(store: Services, clock: ManualClock) -> None:
    """An open run, a run with a handoff waiting for a person and one whose delivery is
    still queued are kept, however old; the audit entry counts the finished ones it kept."""
    old = clock() - RETENTION * 2
    await seed_run(store, "open", started_at=old, status="running", handoff_status=None)
    await seed_run(store, "waiting", started_at=old, handoff_status="pending")
    await seed_run(store, "undelivered", started_at=old, outbox_status="pending")
    await seed_run(store, "done", started_at=old)
    await purge_expired(store.sessions, config=store.config, now=clock(), pause=0)
    for run_id in ("open", "waiting", "undelivered"):
        assert (await rows_of(store, [run_id]))["runs"] == 1, run_id
    assert (await rows_of(store, ["done"]))["runs"] == 0
    (entry,) = await audit_entries(store, PURGED)
    assert entry.details is not None
    assert entry.details["kept_in_use"] == 2
    assert entry.details["deleted"]["runs"] == 1


async def test_workflow_without_retention_keeps_everything(
    store: Services, clock: ManualClock
) -> None:
    """A workflow with no ``retention`` keeps its runs for ever."""
    await seed_run(
        store, "ancient", workflow="invoice-extraction", started_at=clock() - timedelta(days=900)
    )
    await purge_expired(store.sessions, config=store.config, now=clock(), pause=0)
    assert (await rows_of(store, ["ancient"]))["runs"] == 1


async def test_the_audit_log_is_never_purged(store: Services, clock: ManualClock) -> None:
    """Audit entries stay, however old: the log is a hash chain that verifies only whole."""
    now = clock()
    async with store.sessions() as db, db.begin():
        for age, reason in ((100, "kept"), (401, "gone")):
            await create_audit_entry(
                db, actor="cli:ops", action="paused", workflow="ticket-triage",
                details={"reason": reason}, now=now - timedelta(days=age),
            )  # fmt: skip
    await purge_expired(store.sessions, config=store.config, now=now, pause=0)
    reasons = [e.details and e.details["reason"] for e in await audit_entries(store, "paused")]
    assert reasons == ["kept", "gone"]


async def test_purge_works_in_batches_and_leaves_no_run_half_deleted(
    store: Services, clock: ManualClock
) -> None:
    """With batches of 10 rows, 12 old runs of 4 steps each all go, and no step is left
    without its run."""
    old = clock() - RETENTION * 2
    ids = [f"batch-{n}" for n in range(12)]
    for run_id in ids:
        await seed_run(store, run_id, started_at=old, steps=4, handoff_status=None)
    await purge_expired(store.sessions, config=store.config, now=clock(), pause=0, batch_rows=10)
    assert (await rows_of(store, ids))["runs"] == 0
    assert await orphan_steps(store) == 0


async def test_purge_racing_live_writes_leaves_the_live_run_whole(
    client: TestClient[Any, Any], make_token: MakeToken, services: Services, clock: ManualClock
) -> None:
    """While the purge deletes 40 old runs of the same workflow in small batches, a live
    run keeps receiving steps over the API: every step lands, and nothing is half-deleted."""
    token = await make_token()
    old = clock() - RETENTION * 2
    ids = [f"aged-{n}" for n in range(40)]
    for run_id in ids:
        await seed_run(services, run_id, started_at=old, steps=5)
    started = await client.post("/api/v1/runs", json={"run_id": "live"}, headers=bearer(token))
    assert started.status == 201

    async def write_live_steps() -> None:
        for batch in range(20):
            events = [{"id": f"e{batch}-{n}", "type": "tool", "name": "lookup"} for n in range(5)]
            response = await client.post(
                "/api/v1/runs/live/events", json={"events": events}, headers=bearer(token)
            )
            assert response.status == 202

    await asyncio.gather(
        purge_expired(
            services.sessions,
            config=services.config,
            now=clock(),
            pause=batch_pause(services.engine.dialect.name),
            batch_rows=12,
        ),
        write_live_steps(),
    )
    assert (await rows_of(services, ids))["runs"] == 0
    assert await orphan_steps(services) == 0
    trace = await client.get("/api/v1/runs/live", headers=bearer(token))
    assert len((await trace.json())["events"]) == 100
