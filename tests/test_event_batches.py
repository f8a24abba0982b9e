"""The ingestion hot path at the driver: dedupe, numbering, refusals and rollback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.services import Services
from store.driver import driver_connection
from store.engine import create_engine
from store.event_batches import EVENT_COLUMNS, store_event_batch
from store.models import Event, Run
from store.repositories.workflows import create_missing_workflows
from workflows.clock import ManualClock

OPEN = ("running",)


def row(name: str, client_id: str | None = None, **values: Any) -> dict[str, Any]:
    return dict.fromkeys(EVENT_COLUMNS) | {
        "workflow": "ticket-triage",
        "client_id": client_id,
        "type": "tool",
        "name": name,
        "input": {"q": name},
        **values,
    }


async def add_run(services: Services, clock: ManualClock, run_id: str, status: str) -> None:
    async with services.sessions() as db, db.begin():
        await create_missing_workflows(db, services.config.workflows, clock())
        db.add(
            Run(
                id=run_id,
                workflow="ticket-triage",
                status=status,
                started_at=clock(),
                event_count=0,
            )
        )


async def stored(services: Services, run_id: str) -> tuple[int, list[tuple[int, str]]]:
    async with services.sessions() as db:
        count = await db.scalar(select(Run.event_count).where(Run.id == run_id))
        events = await db.execute(
            select(Event.seq, Event.name).where(Event.run_id == run_id).order_by(Event.seq)
        )
        return int(count or 0), [(seq, name) for seq, name in events]


async def store(services: Services, run_id: str, rows: list[dict[str, Any]]) -> Any:
    return await store_event_batch(
        services.engine, run_id=run_id, workflow="ticket-triage", statuses=OPEN, rows=rows
    )


async def test_rows_are_numbered_after_the_runs_last_step(
    services: Services, clock: ManualClock
) -> None:
    """A second batch continues the run's numbering where the first stopped."""
    await add_run(services, clock, "r1", "running")
    now = clock()
    await store(services, "r1", [row("a", recorded_at=now), row("b", recorded_at=now)])
    result = await store(services, "r1", [row("c", recorded_at=now)])
    assert [written["seq"] for written in result.written] == [3]
    assert await stored(services, "r1") == (3, [(1, "a"), (2, "b"), (3, "c")])


async def test_seen_and_repeated_client_ids_are_skipped(
    services: Services, clock: ManualClock
) -> None:
    """An ID stored before, or repeated within the batch, is counted as a duplicate."""
    await add_run(services, clock, "r1", "running")
    now = clock()
    await store(services, "r1", [row("a", "e1", recorded_at=now)])
    again = [("a", "e1"), ("b", "e2"), ("b again", "e2")]
    result = await store(services, "r1", [row(name, key, recorded_at=now) for name, key in again])
    assert (len(result.written), result.duplicates) == (1, 2)
    assert await stored(services, "r1") == (2, [(1, "a"), (2, "b")])


async def test_a_retry_on_a_finished_run_is_only_duplicates(
    services: Services, clock: ManualClock
) -> None:
    """Resending stored steps after the run finished reports duplicates, not a refusal."""
    await add_run(services, clock, "r1", "running")
    await store(services, "r1", [row("a", "e1", recorded_at=clock())])
    async with services.sessions() as db, db.begin():
        run = await db.get(Run, "r1")
        assert run is not None
        run.status = "succeeded"
    result = await store(services, "r1", [row("a", "e1", recorded_at=clock())])
    assert (result.written, result.duplicates) == ([], 1)


@pytest.mark.parametrize(
    ("run_id", "status"), [("r-closed", "succeeded"), ("r-missing", None)], ids=["closed", "absent"]
)
async def test_a_refused_batch_writes_nothing(
    services: Services, clock: ManualClock, run_id: str, status: str | None
) -> None:
    """A finished or unknown run refuses the batch and its counter stays as it was."""
    if status is not None:
        await add_run(services, clock, run_id, status)
    assert await store(services, run_id, [row("late", "e9", recorded_at=clock())]) is None
    assert await stored(services, run_id) == (0, [])


async def test_another_workflows_run_is_refused(services: Services, clock: ManualClock) -> None:
    """A run is only appended to by its own workflow."""
    await add_run(services, clock, "r1", "running")
    result = await store_event_batch(
        services.engine,
        run_id="r1",
        workflow="invoice-extraction",
        statuses=OPEN,
        rows=[row("x", recorded_at=clock())],
    )
    assert result is None
    assert await stored(services, "r1") == (0, [])


async def test_a_failed_insert_rolls_the_reservation_back(
    services: Services, clock: ManualClock
) -> None:
    """When the insert fails, no position is used up and the next batch goes in cleanly."""
    await add_run(services, clock, "r1", "running")
    with pytest.raises(Exception, match=r"(?i)type|bind|unsupported|invalid"):
        await store(services, "r1", [row("bad", recorded_at=clock(), tokens_in=object())])
    await store(services, "r1", [row("good", recorded_at=clock())])
    async with services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Event)) == 1
    assert await stored(services, "r1") == (1, [(1, "good")])


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)  # a server can drop it
async def test_a_dropped_connection_is_replaced_not_reused(
    services: Services, clock: ManualClock
) -> None:
    """When the server ends the connection, that batch fails and the next one gets a new one."""
    await add_run(services, clock, "r1", "running")
    async with driver_connection(services.engine) as driver:
        pid = driver.get_server_pid()
    admin = create_engine(services.settings.database_url)  # its own pool, so not the victim
    async with admin.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await admin.dispose()
    # asyncpg says so in its own words when the termination notice arrived before the
    # batch's first statement ("another operation is in progress"), else as a closed link.
    with pytest.raises(Exception, match=r"(?i)terminat|closed|connection|another operation"):
        await store(services, "r1", [row("lost", "e1", recorded_at=clock())])
    result = await store(services, "r1", [row("kept", "e1", recorded_at=clock())])
    assert [written["seq"] for written in result.written] == [1]
    assert await stored(services, "r1") == (1, [(1, "kept")])


async def test_concurrent_retries_of_one_batch_store_it_once(
    services: Services, clock: ManualClock
) -> None:
    """The same batch sent eight times at once is stored once, numbered 1..n, counted once."""
    await add_run(services, clock, "r1", "running")
    now = clock()
    batch = [row(f"step {i}", f"e{i}", recorded_at=now) for i in range(50)]
    results = await asyncio.gather(
        *(store(services, "r1", [dict(each) for each in batch]) for _ in range(8))
    )
    assert sum(len(result.written) for result in results) == 50
    assert sum(result.duplicates for result in results) == 7 * 50
    count, events = await stored(services, "r1")
    assert count == 50
    assert [seq for seq, _ in events] == list(range(1, 51))
