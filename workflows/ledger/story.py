"""A run's whole story: the run, its steps in order, its handoffs, decisions and failed deliveries.

One read model feeds ``GET /api/v1/runs/{id}``, ``handrail trace`` and ``/trace``, so the
three never disagree about what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Event, Handoff, Run
from store.repositories import runs as repo
from workflows.delivery.deliveries import (
    FailedDelivery,
    failed_delivery_json,
    read_failed_deliveries,
)
from workflows.errors import NotFound


@dataclass(frozen=True, slots=True)
class RunStory:
    run: Run
    events: Sequence[Event]
    handoffs: Sequence[Handoff]
    decisions: Sequence[Decision]
    failed_deliveries: Sequence[FailedDelivery] = ()
    """Messages and webhooks about the run's handoffs that will never be delivered."""

    def redaction_totals(self) -> dict[str, int]:
        """How many values of each kind were removed across the run and its steps."""
        totals: dict[str, int] = dict(self.run.redactions or {})
        for event in self.events:
            for kind, count in (event.redactions or {}).items():
                totals[kind] = totals.get(kind, 0) + count
        return totals

    def duration_ms(self) -> float | None:
        if self.run.ended_at is None:
            return None
        return (self.run.ended_at - self.run.started_at).total_seconds() * 1000


async def read_run_story(db: AsyncSession, *, run_id: str, workflow: str | None = None) -> RunStory:
    """Load the story; with ``workflow`` given, another workflow's run is not found."""
    run = await repo.get_run(db, run_id)
    if run is None or (workflow is not None and run.workflow != workflow):
        scope = f" in workflow '{workflow}'" if workflow else ""
        raise NotFound(f"no run '{run_id}'{scope}", details=[{"loc": "run_id"}])
    handoffs = await repo.list_handoffs_for_run(db, run_id)
    return RunStory(
        run=run,
        events=await repo.list_events(db, run_id),
        handoffs=handoffs,
        decisions=await repo.list_decisions_for_run(db, run_id),
        failed_deliveries=await read_failed_deliveries(db, [h.id for h in handoffs]),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def story_to_json(story: RunStory) -> dict[str, Any]:
    """The API shape of a story (already redacted at storage)."""
    run = story.run
    decisions = {decision.handoff_id: decision for decision in story.decisions}
    return {
        "run_id": run.id,
        "workflow": run.workflow,
        "status": run.status,
        "input_source": run.input_source,
        "prompt_version": run.prompt_version,
        "model": run.model,
        "metadata": run.meta,
        "result": run.result,
        "error": run.error,
        "started_at": _iso(run.started_at),
        "ended_at": _iso(run.ended_at),
        "duration_ms": story.duration_ms(),
        "redactions": story.redaction_totals(),
        "events": [_event_json(event) for event in story.events],
        "handoffs": [_handoff_json(h, decisions.get(h.id)) for h in story.handoffs],
        "failed_deliveries": [failed_delivery_json(d) for d in story.failed_deliveries],
    }


def _event_json(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "id": event.client_id,
        "type": event.type,
        "name": event.name,
        "status": event.status,
        "started_at": _iso(event.started_at),
        "ended_at": _iso(event.ended_at),
        "duration_ms": event.duration_ms,
        "input": event.input,
        "output": event.output,
        "error": event.error,
        "model": event.model,
        "settings": event.settings,
        "prompt_version": event.prompt_version,
        "tokens_in": event.tokens_in,
        "tokens_out": event.tokens_out,
        "redactions": event.redactions or {},
        "recorded_at": _iso(event.recorded_at),
    }


def _handoff_json(handoff: Handoff, decision: Decision | None) -> dict[str, Any]:
    return {
        "handoff_id": handoff.id,
        "kind": handoff.kind,
        "status": handoff.status,
        "shadow": handoff.shadow,
        "action": handoff.action,
        "summary": handoff.summary,
        "reasons": handoff.reasons,
        "created_at": _iso(handoff.created_at),
        "expires_at": _iso(handoff.expires_at),
        "decided_at": _iso(handoff.decided_at),
        "decision": decision_json(decision) if decision else None,
    }


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome,
        "reviewer": decision.reviewer,
        "approvers": list(decision.approvers) if decision.approvers else [decision.reviewer],
        "decided_at": _iso(decision.decided_at),
        "latency_ms": decision.latency_ms,
        "final_text": decision.final_text,
        "diff": decision.diff,
        "reason": decision.reason,
        "category": decision.category,
        "approval_digest": decision.approval_digest,
        "acted_at": _iso(decision.acted_at),
    }
