"""The weekly failure review's queries: one workflow, one week, each through an index.

Runs come through ``ix_runs_workflow_started_at``, handoffs through
``ix_handoffs_workflow_status_created_at`` (its leading column), the error steps of
failed runs through the ``(run_id, seq)`` key. The digest is built once a week or on
demand, so plain aggregates are enough; none of this runs on the alert tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Alert, Decision, Event, Handoff, Run
from store.repositories.alert_windows import failed_step


async def count_runs(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> tuple[int, int]:
    """Runs started in ``[start, end)``, and how many of them failed."""
    result = await db.execute(
        select(
            func.count(), func.coalesce(func.sum(case((Run.status == "failed", 1), else_=0)), 0)
        ).where(Run.workflow == workflow, Run.started_at >= start, Run.started_at < end)
    )
    total, failed = result.one()
    return int(total), int(failed)


async def list_failed_runs(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime, limit: int
) -> Sequence[Row[str, str | None, datetime]]:
    """Failed runs started in the week, newest first: ``id``, ``error``, ``started_at``."""
    result = await db.execute(
        select(Run.id, Run.error, Run.started_at)
        .where(
            Run.workflow == workflow,
            Run.started_at >= start,
            Run.started_at < end,
            Run.status == "failed",
        )
        .order_by(Run.started_at.desc())
        .limit(limit)
    )
    return result.all()


async def last_step_errors(db: AsyncSession, run_ids: Sequence[str]) -> dict[str, str]:
    """The last failed step's error text (or name) of each run, for runs without one."""
    if not run_ids:
        return {}
    result = await db.execute(
        select(Event.run_id, Event.error, Event.name)
        .where(Event.run_id.in_(run_ids), failed_step())
        .order_by(Event.run_id, Event.seq)
    )
    found: dict[str, str] = {}
    for run_id, error, name in result.all():
        found[run_id] = error if error else f"{name} failed"
    return found


async def list_decisions(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> Sequence[Row[str, int, str | None, str | None, str | None]]:
    """Decisions made in the week on this workflow's handoffs.

    Columns: ``outcome``, ``latency_ms``, ``reason``, ``category``, ``diff``; newest first.
    """
    result = await db.execute(
        select(
            Decision.outcome, Decision.latency_ms, Decision.reason, Decision.category, Decision.diff
        )
        .join(Handoff, Handoff.id == Decision.handoff_id)
        .where(
            Handoff.workflow == workflow, Decision.decided_at >= start, Decision.decided_at < end
        )
        .order_by(Decision.decided_at.desc())
    )
    return result.all()


async def count_handoff_kinds(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Handoffs opened in the week, by kind, most frequent first."""
    count = func.count().label("n")
    result = await db.execute(
        select(Handoff.kind, count)
        .where(Handoff.workflow == workflow, Handoff.created_at >= start, Handoff.created_at < end)
        .group_by(Handoff.kind)
        .order_by(count.desc(), Handoff.kind)
    )
    return [(str(kind), int(n)) for kind, n in result.all()]


async def prompt_versions_used(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> Sequence[Row[str | None, datetime, int]]:
    """Prompt versions of the runs started in ``[start, end)``: version, first use, runs."""
    result = await db.execute(
        select(Run.prompt_version, func.min(Run.started_at), func.count())
        .where(Run.workflow == workflow, Run.started_at >= start, Run.started_at < end)
        .group_by(Run.prompt_version)
        .order_by(func.min(Run.started_at))
    )
    return result.all()


async def distinct_prompt_versions(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> set[str | None]:
    result = await db.execute(
        select(Run.prompt_version)
        .distinct()
        .where(Run.workflow == workflow, Run.started_at >= start, Run.started_at < end)
    )
    return set(result.scalars().all())


async def count_alerts(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Alerts raised in the week, by rule."""
    count: Any = func.count().label("n")
    result = await db.execute(
        select(Alert.rule, count)
        .where(Alert.workflow == workflow, Alert.created_at >= start, Alert.created_at < end)
        .group_by(Alert.rule)
        .order_by(count.desc(), Alert.rule)
    )
    return [(str(rule), int(n)) for rule, n in result.all()]
