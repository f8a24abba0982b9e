"""Runs with everything a run leaves behind, written straight to the store for lifecycle tests.

Each seeded run has steps and, on request, a handoff with its decision, the outbox rows
that posted and called back about it, a parked job and an alert that copied its error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bot.services import Services
from store.models import (
    Alert,
    AuditEntry,
    Decision,
    Event,
    Handoff,
    OutboxMessage,
    ParkedJob,
    Run,
)

#: Every table that holds a run's data, with the column naming the run.
RUN_TABLES: dict[str, Any] = {
    "runs": Run.id,
    "events": Event.run_id,
    "handoffs": Handoff.run_id,
    "decisions": Decision.run_id,
    "parked_jobs": ParkedJob.run_id,
}


async def seed_run(
    services: Services,
    run_id: str,
    *,
    started_at: datetime,
    workflow: str = "ticket-triage",
    status: str = "succeeded",
    steps: int = 3,
    handoff_status: str | None = "approved",
    outbox_status: str = "done",
    input_source: str | None = None,
) -> None:
    """One run with ``steps`` steps and, unless ``handoff_status`` is None, a handoff with
    a decision, its Slack post and webhook rows (in ``outbox_status``), a parked job and
    an alert sample."""
    async with services.sessions() as db, db.begin():
        db.add(
            Run(
                id=run_id, workflow=workflow, status=status, input_source=input_source,
                started_at=started_at, event_count=steps, error="card 4111 declined",
            )
        )  # fmt: skip
        await db.flush()
        for seq in range(1, steps + 1):
            db.add(
                Event(
                    run_id=run_id, workflow=workflow, seq=seq, type="tool", name="lookup",
                    input={"email": "ada@example.com"}, recorded_at=started_at,
                )
            )  # fmt: skip
        if handoff_status is None:
            return
        handoff_id = f"ho_{run_id}"
        db.add(
            Handoff(
                id=handoff_id, run_id=run_id, workflow=workflow, kind="approval",
                status=handoff_status, summary="refund for Ada", draft="Dear Ada",
                created_at=started_at,
            )
        )  # fmt: skip
        await db.flush()
        if handoff_status not in ("pending", "held"):
            db.add(
                Decision(
                    handoff_id=handoff_id, run_id=run_id, outcome=handoff_status,
                    reviewer="U0ALICE", final_text="Dear Ada, done", decided_at=started_at,
                    latency_ms=10,
                )
            )  # fmt: skip
        for key in (f"handoff:{handoff_id}:post", f"handoff:{handoff_id}:webhook"):
            db.add(
                OutboxMessage(
                    kind="slack.post", dedupe_key=key, ordering_key=key, workflow=workflow,
                    payload={"ref": handoff_id}, status=outbox_status, attempts=1,
                    available_at=started_at, created_at=started_at,
                )
            )  # fmt: skip
        db.add(
            ParkedJob(
                id=f"pk_{run_id}", run_id=run_id, workflow=workflow, status="resolved",
                last_step="lookup", created_at=started_at,
            )
        )  # fmt: skip
        db.add(
            Alert(
                id=f"al_{run_id}", workflow=workflow, rule="repeated_error",
                fingerprint=run_id, status="resolved", title="declines",
                first_seen=started_at, last_seen=started_at, last_run_id=run_id,
                sample="card 4111 declined", created_at=started_at,
            )
        )  # fmt: skip


async def rows_of(services: Services, run_ids: Sequence[str]) -> dict[str, int]:
    """How many rows each table still holds for ``run_ids`` (outbox rows by their keys)."""
    counts: dict[str, int] = {}
    async with services.sessions() as db:
        for table, column in RUN_TABLES.items():
            query = select(func.count()).where(column.in_(run_ids))
            counts[table] = int(await db.scalar(query) or 0)
        keys = [f"handoff:ho_{run_id}:post" for run_id in run_ids]
        counts["outbox"] = int(
            await db.scalar(select(func.count()).where(OutboxMessage.ordering_key.in_(keys))) or 0
        )
        samples = select(func.count()).where(
            Alert.id.in_([f"al_{run_id}" for run_id in run_ids]),
            (Alert.last_run_id.is_not(None)) | (Alert.sample.is_not(None)),
            Alert.title == "declines",
        )
        counts["alert_samples"] = int(await db.scalar(samples) or 0)
    return counts


async def orphan_steps(services: Services) -> int:
    """Steps whose run is gone: what a half-done delete would leave behind."""
    async with services.sessions() as db:
        query = select(func.count()).where(Event.run_id.not_in(select(Run.id)))
        return int(await db.scalar(query) or 0)


async def audit_entries(services: Services, action: str) -> list[AuditEntry]:
    async with services.sessions() as db:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await db.execute(query)).scalars())
