"""What ``/trace`` shows of a run: bounded slices of its story, shaped for display.

A run can have thousands of steps and a Slack message holds fifty blocks, so the trace
reads the first and the last steps (a fixed number, by index), every gate verdict in
between, all handoffs with their decisions, and the deliveries about them that failed;
"Show more" reads the middle a page at a
time. The cost of a trace therefore depends on what is shown, never on the size of the
store. The views are plain frozen dataclasses of raw text: ``handlers/blocks/trace.py``
escapes and cuts them; nothing here knows Block Kit.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Decision, Handoff, Run
from store.repositories import runs as run_rows
from store.repositories import traces as rows
from workflows.config.brief import HandrailConfig
from workflows.delivery.deliveries import FailedDelivery, read_failed_deliveries
from workflows.errors import NotFound
from workflows.ledger.views import DecisionView
from workflows.review.handoffs import decision_view
from workflows.roles import MemberDirectory, Role, ensure_role, has_any_role

HEAD_STEPS = 40
TAIL_STEPS = 40
PAGE_STEPS = 40
HIDDEN_GATES_MAX = 60
#: How much of a step's input or output is kept: a glance, not the record.
SHORT_CHARS = 300
TRACERS: tuple[Role, ...] = ("reviewer", "admin", "oncall")


@dataclass(frozen=True, slots=True, kw_only=True)
class StepView:
    """One step: the automation's own (prompt, model, tool…) or Handrail's (gate, decision)."""

    seq: int
    type: str
    name: str
    status: str | None
    duration_ms: float | None
    input: str | None
    """One line, at most ``SHORT_CHARS``."""
    output: str | None
    """One line, at most ``SHORT_CHARS``; for gates and decisions see ``detail``."""
    error: str | None
    """The error text as read: its first ``traces.ERROR_CHARS`` characters."""
    error_chars: int | None = None
    """The length of the whole error text (``error`` may be its start only)."""
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    detail: str | None = None
    """Gate: the policy's reason; handoff: its summary; decision: the reviewer's reason."""
    actor: str | None = None
    """Decision: the reviewer's Slack user ID."""
    approvers: tuple[str, ...] = ()
    """Decision of a quorum: every approver's Slack user ID, in order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffStory:
    id: str
    kind: str
    status: str
    summary: str
    action: str | None
    created_at: datetime
    decision: DecisionView | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceView:
    """The header, the first and last steps, the hidden gates and every handoff of a run."""

    run_id: str
    workflow: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    prompt_version: str | None
    model: str | None
    input_source: str | None
    error: str | None
    step_count: int
    head: tuple[StepView, ...]
    tail: tuple[StepView, ...] = ()
    """Empty when ``head`` holds the whole run."""
    hidden_gates: tuple[StepView, ...] = ()
    """Gate verdicts between ``head`` and ``tail``, so no verdict is ever out of sight."""
    handoffs: tuple[HandoffStory, ...] = ()
    failed_deliveries: tuple[FailedDelivery, ...] = ()
    """Messages and webhooks about the handoffs that will never be delivered."""
    redactions: dict[str, int] = field(default_factory=dict)
    redactions_complete: bool = True
    """False when ``redactions`` counts only the run and the steps read (a long run)."""

    @property
    def duration_ms(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds() * 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class TracePage:
    """A page of steps from some position on, for "Show more"."""

    run_id: str
    workflow: str
    step_count: int
    steps: tuple[StepView, ...]
    more: bool
    """Whether steps follow the last one in ``steps``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunBrief:
    run_id: str
    workflow: str
    status: str
    started_at: datetime


async def check_may_trace(
    user: str, *, config: HandrailConfig, workflow: str, directory: MemberDirectory
) -> None:
    """Only the workflow's reviewers, admins and on-call read its runs."""
    policy = config.workflow(workflow)
    if policy is None:
        raise NotFound(
            f"the run belongs to '{workflow}', which is no longer in workflows.yml",
            details=[{"loc": "workflow"}],
        )
    await ensure_role(user, workflow=workflow, policy=policy, roles=TRACERS, directory=directory)


async def traceable_workflows(
    user: str, *, config: HandrailConfig, directory: MemberDirectory
) -> list[str]:
    """The workflows whose runs ``user`` may read (for suggestions and latest runs)."""
    return [
        name
        for name, policy in sorted(config.workflows.items())
        if await has_any_role(user, policy=policy, roles=TRACERS, directory=directory)
    ]


async def read_trace(db: AsyncSession, *, run: Run) -> TraceView:
    """The trace of ``run``: at most ``HEAD_STEPS + 1 + TAIL_STEPS`` steps are read."""
    head = list(await rows.list_steps_from(db, run.id, from_seq=0, limit=HEAD_STEPS + 1))
    tail: list[Row[Any]] = []
    gates: Sequence[Row[Any]] = ()
    if len(head) > HEAD_STEPS:
        head = head[:HEAD_STEPS]
        last_head = head[-1].seq
        tail = await rows.list_last_steps(db, run.id, after_seq=last_head, limit=TAIL_STEPS)
        if tail and tail[0].seq == last_head + 1:  # nothing in between: it is all here
            head, tail = head + tail, []
        elif tail:
            gates = await rows.list_steps_of_type_between(
                db,
                run.id,
                type="gate",
                after_seq=last_head,
                before_seq=tail[0].seq,
                limit=HIDDEN_GATES_MAX,
            )
    handoffs = await run_rows.list_handoffs_for_run(db, run.id)
    decisions = {d.handoff_id: d for d in await run_rows.list_decisions_for_run(db, run.id)}
    totals: dict[str, int] = dict(run.redactions or {})
    for step in (*head, *tail):
        for kind, count in (step.redactions or {}).items():
            totals[kind] = totals.get(kind, 0) + count
    return TraceView(
        run_id=run.id,
        workflow=run.workflow,
        status=run.status,
        started_at=run.started_at,
        ended_at=run.ended_at,
        prompt_version=run.prompt_version,
        model=run.model,
        input_source=run.input_source,
        error=run.error,
        step_count=max(run.event_count, len(head) + len(tail)),
        head=tuple(step_view(row) for row in head),
        tail=tuple(step_view(row) for row in tail),
        hidden_gates=tuple(step_view(row) for row in gates),
        handoffs=tuple(_handoff_story(h, decisions.get(h.id)) for h in handoffs),
        failed_deliveries=await read_failed_deliveries(db, [h.id for h in handoffs]),
        redactions=totals,
        redactions_complete=not tail,
    )


async def read_trace_page(db: AsyncSession, *, run: Run, from_seq: int) -> TracePage:
    """Up to ``PAGE_STEPS`` steps from ``from_seq`` on."""
    found = await rows.list_steps_from(db, run.id, from_seq=from_seq, limit=PAGE_STEPS + 1)
    return TracePage(
        run_id=run.id,
        workflow=run.workflow,
        step_count=run.event_count,
        steps=tuple(step_view(row) for row in found[:PAGE_STEPS]),
        more=len(found) > PAGE_STEPS,
    )


async def find_runs_near(
    db: AsyncSession, raw: str, *, workflows: Collection[str], limit: int = 5
) -> tuple[list[RunBrief], list[RunBrief]]:
    """For an unknown ID: (the IDs most like it, the latest runs), both of ``workflows``.

    Candidates are runs whose ID contains what was typed and the runs whose IDs sort right
    beside it (where a typo in the last characters lands), ranked by similarity.
    """
    allowed = set(workflows)
    candidates = {
        run.id: run
        for run in [
            *await run_rows.list_runs_like(db, raw, limit=20),
            *await rows.list_runs_beside(db, raw, allowed, limit=limit),
        ]
        if run.workflow in allowed
    }
    scored = sorted(
        candidates.values(),
        key=lambda run: difflib.SequenceMatcher(None, raw, run.id).ratio(),
        reverse=True,
    )
    nearest = [
        _brief(run)
        for run in scored
        if raw in run.id or difflib.SequenceMatcher(None, raw, run.id).ratio() >= 0.6
    ][:limit]
    latest = [_brief(run) for run in await rows.list_latest_runs(db, allowed, limit=limit)]
    return nearest, latest


def step_view(row: Row[Any]) -> StepView:
    """Shape one step read by ``store.repositories.traces`` for display.

    Handrail's own steps (gate, handoff, decision) have their meaning pulled out of their
    output: the policy's reason, the handoff's summary, the reviewer and their reason.
    """
    detail = actor = approvers = None
    output: str | None = row.output
    if row.type in ("gate", "handoff", "decision") and output is not None:
        recorded = _json_object(output)
        detail = recorded.get({"gate": "reason", "handoff": "summary"}.get(row.type, "reason"))
        actor = recorded.get("reviewer") if row.type == "decision" else None
        approvers = recorded.get("approvers") if row.type == "decision" else None
        output = None
    return StepView(
        seq=row.seq,
        type=row.type,
        name=row.name,
        status=row.status,
        duration_ms=row.duration_ms,
        input=glance(row.input),
        output=glance(output),
        error=row.error,
        error_chars=row.error_chars,
        model=row.model,
        tokens_in=row.tokens_in,
        tokens_out=row.tokens_out,
        detail=detail if isinstance(detail, str) else None,
        actor=actor if isinstance(actor, str) else None,
        approvers=tuple(str(a) for a in approvers) if isinstance(approvers, list) else (),
    )


def glance(raw: str | None, limit: int = SHORT_CHARS) -> str | None:
    """A stored JSON value as one short line: a string without its quotes, else its JSON."""
    if raw is None or raw == "null":
        return None
    text = raw
    if raw.startswith('"') and raw.endswith('"') and len(raw) < rows.GLANCE_CHARS:
        decoded = orjson.loads(raw)
        text = decoded if isinstance(decoded, str) else raw
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_object(raw: str) -> dict[str, Any]:
    """Handrail's own step outputs are small JSON objects; anything else reads as empty."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _handoff_story(handoff: Handoff, decision: Decision | None) -> HandoffStory:
    return HandoffStory(
        id=handoff.id,
        kind=handoff.kind,
        status=handoff.status,
        summary=handoff.summary,
        action=handoff.action,
        created_at=handoff.created_at,
        decision=decision_view(decision) if decision is not None else None,
    )


def _brief(run: Run) -> RunBrief:
    return RunBrief(
        run_id=run.id, workflow=run.workflow, status=run.status, started_at=run.started_at
    )
