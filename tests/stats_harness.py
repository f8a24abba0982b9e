"""Recorded review history in volume, written through the store's models as the gate and a
decision would leave it: a run, its gate step, the handoff and the decision on it.

Calibration needs hundreds of decided cases; asking the gate and clicking that many times
would prove nothing more than ``test_stats_flow`` does with a few, so these rows go
straight into the real database (SQLite file or PostgreSQL schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from bot.services import Services
from store.models import Decision, Event, Handoff, Run

_ids = count(1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One gate question; ``outcome`` None leaves it allowed, "pending" leaves it waiting."""

    action: str = "send_reply"
    confidence: float | None = 0.9
    outcome: str | None = "approved"
    reviewer: str = "U0ALICE"
    latency_s: float = 60
    shadow: bool = False
    draft: str | None = "Hi Sam, your order ships today."
    prompt_version: str | None = "v1"
    stop_topic: str | None = None
    category: str | None = None
    diff: str | None = None


async def seed(services: Services, cases: list[Case], *, at: datetime) -> None:
    """Write ``cases`` as asked at ``at`` (one second apart), in one transaction."""
    layers: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for offset, case in enumerate(cases):
        number = next(_ids)
        asked = at + timedelta(seconds=offset)
        run_id = f"run-seed-{number}"
        verdict = "allow" if case.outcome is None else "shadow" if case.shadow else "review"
        layers[0].append(
            Run(
                id=run_id,
                workflow="ticket-triage",
                status="running",
                prompt_version=case.prompt_version,
                started_at=asked,
                event_count=1,
            )
        )
        layers[1].append(
            Event(
                run_id=run_id,
                workflow="ticket-triage",
                seq=1,
                type="gate",
                name=case.action,
                status=verdict,
                recorded_at=asked,
            )
        )
        if case.outcome is None:
            continue
        handoff_id = f"hof_seed{number}"
        decided = asked + timedelta(seconds=case.latency_s)
        status = case.outcome
        layers[1].append(
            Handoff(
                id=handoff_id,
                run_id=run_id,
                workflow="ticket-triage",
                kind="stop_rule" if case.stop_topic else "approval_required",
                status=status,
                action=case.action,
                summary="seeded",
                draft=case.draft,
                confidence=case.confidence,
                stop_topic=case.stop_topic,
                shadow=case.shadow,
                created_at=asked,
                decided_at=None if status == "pending" else decided,
            )
        )
        if status in ("pending", "expired"):
            continue
        layers[2].append(
            Decision(
                handoff_id=handoff_id,
                run_id=run_id,
                outcome=status,
                reviewer=case.reviewer,
                category=case.category,
                reason="seeded" if status == "rejected" else None,
                diff=case.diff,
                decided_at=decided,
                latency_ms=int(case.latency_s * 1000),
                released_at=decided,
            )
        )
    async with services.sessions() as db, db.begin():
        for layer in layers:  # parents flushed before the rows that point at them
            db.add_all(layer)
            await db.flush()
