"""The gate's transaction at the database driver: read what the verdict needs, write what it opens.

Opening a review is what automations do hardest, and through the ORM on SQLite its nine
statements cost three or four hand-offs each between the event loop and aiosqlite's thread
(cursor, execute, fetch, close), plus the session's bookkeeping, all while holding the one
write lock. Here each statement is one trip: ``BEGIN IMMEDIATE`` (PostgreSQL: a transaction
that holds the run's row), three reads (the run, an earlier answer to the same
``request_id``, the pause switches), then the domain decides (``workflows.gate``) and its
rows go in: the handoff, the run's positions, the trace steps and the outbox rows, each
table in one statement, and the commit. The SQL is compiled from the models by SQLAlchemy
(``store.driver.DriverStatement``), so values are stored exactly as the ORM stores them.
``bench/peer.py`` measures the gate beside the peer's task creation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Integer, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from store.driver import DriverStatement, driver_connection
from store.models import Event, Handoff, OutboxMessage, Run, Workflow
from store.write_lock import write_turn

HANDOFF_COLUMNS: Final = tuple(column.key for column in Handoff.__table__.columns)
STEP_COLUMNS: Final = (
    "server_key", "run_id", "workflow", "seq", "type", "name", "status", "input", "output",
    "error", "recorded_at",
)  # fmt: skip
OUTBOX_COLUMNS: Final = (
    "kind", "dedupe_key", "ordering_key", "workflow", "payload", "status", "attempts",
    "available_at", "created_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PauseSwitch:
    paused_at: datetime | None
    paused_by: str | None
    paused_reason: str | None


@dataclass(frozen=True, slots=True)
class GateRead:
    """What the verdict is decided on, read inside the transaction that writes it."""

    run_status: str | None
    """The run's status; None when there is no such run in the workflow."""
    earlier: dict[str, Any] | None
    """The output of the gate step an earlier request with the same key recorded."""
    switches: dict[str, PauseSwitch]


@dataclass(frozen=True, slots=True)
class GateWrite:
    """The rows a verdict adds: an optional handoff, trace steps in order, outbox rows."""

    steps: list[dict[str, Any]]
    """Step rows without ``run_id``, ``workflow`` and ``seq``: they are given here."""
    handoff: dict[str, Any] | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)


Decide = Callable[[GateRead], GateWrite | None]


def _columns(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: bindparam(name) for name in names}


_RUN = DriverStatement(
    {
        "sqlite": select(Run.workflow, Run.status).where(Run.id == bindparam("run_id")),
        "postgresql": select(Run.workflow, Run.status)
        .where(Run.id == bindparam("run_id"))
        .with_for_update(),
    }
)
_earlier = select(Event.output).where(
    Event.run_id == bindparam("run_id"),
    Event.server_key == bindparam("key"),
    Event.type == bindparam("type"),
)
_EARLIER = DriverStatement({"sqlite": _earlier, "postgresql": _earlier})
_switches = select(
    Workflow.name, Workflow.paused_at, Workflow.paused_by, Workflow.paused_reason
).where(Workflow.name.in_([bindparam("own"), bindparam("every")]))
_SWITCHES = DriverStatement({"sqlite": _switches, "postgresql": _switches})
_handoff = insert(Handoff).values(_columns(HANDOFF_COLUMNS))
_HANDOFF = DriverStatement({"sqlite": _handoff, "postgresql": _handoff})
_reserve = (
    update(Run)
    .where(Run.id == bindparam("run_id"))
    .values(event_count=Run.event_count + bindparam("count", type_=Integer))
    .returning(Run.event_count)
)
_RESERVE = DriverStatement({"sqlite": _reserve, "postgresql": _reserve})
_STEPS = DriverStatement(
    {
        "sqlite": sqlite.insert(Event).values(_columns(STEP_COLUMNS)).on_conflict_do_nothing(),
        "postgresql": postgresql.insert(Event)
        .values(_columns(STEP_COLUMNS))
        .on_conflict_do_nothing(),
    }
)
_OUTBOX = DriverStatement(
    {
        "sqlite": sqlite.insert(OutboxMessage)
        .values(_columns(OUTBOX_COLUMNS))
        .on_conflict_do_nothing(),
        "postgresql": postgresql.insert(OutboxMessage)
        .values(_columns(OUTBOX_COLUMNS))
        .on_conflict_do_nothing(),
    }
)


async def gate_transaction(
    engine: AsyncEngine,
    *,
    run_id: str,
    workflow: str,
    every: str,
    key: str | None,
    decide: Decide,
) -> bool:
    """Read, let ``decide`` choose the rows, write them; all in one transaction.

    ``every`` names the switch that pauses every workflow. ``decide`` runs on the event
    loop between the reads and the writes; when it returns None nothing is written (an
    earlier answer, or a refusal it raises after this returns). Returns whether rows were
    written. On SQLite the writers of this process take turns (``store.write_lock``).
    """
    dialect = engine.dialect
    async with (
        write_turn(engine),
        driver_connection(engine) as driver,
        _transaction(driver, dialect) as commit,
    ):
        read = await _read(driver, dialect, run_id=run_id, workflow=workflow, every=every, key=key)
        write = decide(read)
        if write is None:
            return False
        await _write(driver, dialect, run_id=run_id, workflow=workflow, write=write)
        commit()
    return True


async def _read(
    driver: Any, dialect: Dialect, *, run_id: str, workflow: str, every: str, key: str | None
) -> GateRead:
    runs = await _RUN.fetch(driver, dialect, run_id=run_id)
    status = runs[0][1] if runs and runs[0][0] == workflow else None
    earlier = None
    if status is not None and key is not None:
        found = await _EARLIER.fetch(driver, dialect, run_id=run_id, key=key, type="gate")
        earlier = found[0][0] if found else None
    switches = await _SWITCHES.fetch(driver, dialect, own=workflow, every=every)
    return GateRead(
        run_status=status,
        earlier=earlier,
        switches={name: PauseSwitch(*rest) for name, *rest in switches},
    )


async def _write(
    driver: Any, dialect: Dialect, *, run_id: str, workflow: str, write: GateWrite
) -> None:
    if write.handoff is not None:
        row = {name: write.handoff.get(name) for name in HANDOFF_COLUMNS}  # unset: NULL
        await _HANDOFF.execute_many(driver, dialect, [row])
    [(last,)] = await _RESERVE.fetch(driver, dialect, run_id=run_id, count=len(write.steps))
    first = int(last) - len(write.steps) + 1
    steps = [
        {**step, "run_id": run_id, "workflow": workflow, "seq": first + number}
        for number, step in enumerate(write.steps)
    ]
    await _STEPS.execute_many(driver, dialect, steps)
    await _OUTBOX.execute_many(driver, dialect, write.outbox)


@asynccontextmanager
async def _transaction(driver: Any, dialect: Dialect) -> AsyncIterator[Callable[[], None]]:
    """Yields ``commit``: call it to commit at the end; otherwise the transaction rolls back
    (nothing to write, or an error). ``BEGIN IMMEDIATE`` on SQLite takes the write lock
    first, so no statement fails halfway for want of it."""
    chosen: list[bool] = []
    if dialect.name == "sqlite":
        await driver.execute_fetchall("BEGIN IMMEDIATE")
        try:
            yield lambda: chosen.append(True)
        except BaseException:
            await driver.rollback()
            raise
        await (driver.commit() if chosen else driver.rollback())
        return
    transaction = driver.transaction()
    await transaction.start()
    try:
        yield lambda: chosen.append(True)
    except BaseException:
        await transaction.rollback()
        raise
    await (transaction.commit() if chosen else transaction.rollback())
