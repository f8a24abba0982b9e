"""Parked jobs: an unfinished job kept with its context, so it is resumed, not redone.

A job moves ``parked`` → ``resumable`` (a person clicked Resume) → ``resumed`` (the
automation claimed it and continues after ``last_step``), or from ``parked``/``resumable``
to ``taken_over`` (a person handles it; a handoff records that, with the context). Every
move is a conditional UPDATE, so two clicks or two claiming automations cannot both win,
and each resumed job is handed out exactly once. While the workflow is paused nothing is
handed out: claiming answers 423.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Handoff, ParkedJob
from store.repositories import parked as rows
from workflows.config.brief import WorkflowConfig
from workflows.errors import Conflict, NotFound
from workflows.identifiers import new_id
from workflows.ledger.runs import (
    OPEN_STATUSES,
    find_server_step,
    get_run_of,
    record_step,
    server_key,
)
from workflows.pause.state import refuse_if_paused
from workflows.review.decisions import DecisionInput, record_decision
from workflows.review.handoffs import HandoffRequest, open_handoff
from workflows.roles import MemberDirectory, Role, ensure_role

PARKED = "parked"
RESUMABLE = "resumable"
RESUMED = "resumed"
TAKEN_OVER = "taken_over"
STATUSES = (PARKED, RESUMABLE, RESUMED, TAKEN_OVER)
WAITING = (PARKED, RESUMABLE)
CLAIM_MAX = 50
#: Who may resume or take over a parked job of a workflow.
HANDLERS: tuple[Role, ...] = ("reviewer", "admin", "oncall")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkRequest:
    last_step: str
    input_ref: str | None = None
    extracted: Any = None
    error: str | None = None
    request_id: str | None = None


async def park_job(
    db: AsyncSession, *, workflow: str, run_id: str, request: ParkRequest, now: datetime
) -> tuple[ParkedJob, bool]:
    """Park the run's job with its context; returns (job, created).

    With ``request_id`` a retried request returns the job the first one parked. A run has
    at most one waiting job: parking it again while one waits is a conflict.
    """
    run = await get_run_of(db, workflow=workflow, run_id=run_id, for_update=True)
    key = server_key("park", request.request_id)
    if key is not None:
        earlier = await find_server_step(db, run_id=run_id, key=key, type="park")
        if earlier is not None:
            return await get_parked(db, parked_id=earlier["parked_id"], workflow=workflow), False
    if run.status not in OPEN_STATUSES:
        raise Conflict(
            f"run '{run_id}' is finished ({run.status}); only an unfinished job can be parked",
            details=[{"loc": "run_id", "status": run.status}],
        )
    waiting = await rows.get_open_job_for_run(db, run_id, WAITING)
    if waiting is not None:
        raise Conflict(
            f"run '{run_id}' already has parked job {waiting.id} ({waiting.status}); "
            "resume it or take it over first",
            details=[{"loc": "run_id", "parked_id": waiting.id}],
        )
    job = ParkedJob(
        id=new_id("pkd"),
        run_id=run_id,
        workflow=workflow,
        status=PARKED,
        input_ref=request.input_ref,
        last_step=request.last_step,
        extracted=request.extracted,
        error=request.error,
        created_at=now,
    )
    rows.create_parked_job(db, job)
    run.status = PARKED
    await db.flush()
    await record_step(
        db,
        run_id=run_id,
        workflow=workflow,
        type="park",
        name=PARKED,
        status=PARKED,
        output={"parked_id": job.id, "last_step": request.last_step},
        now=now,
        server_key=key,
    )
    return job, True


async def get_parked(db: AsyncSession, *, parked_id: str, workflow: str | None) -> ParkedJob:
    """The job; with ``workflow`` given, another workflow's job is not found."""
    job = await rows.get_parked_job(db, parked_id)
    if job is None or (workflow is not None and job.workflow != workflow):
        raise NotFound(f"no parked job '{parked_id}'", details=[{"loc": "parked_id"}])
    return job


async def list_parked(
    db: AsyncSession, *, workflows: Collection[str], statuses: Collection[str], limit: int = 100
) -> Sequence[ParkedJob]:
    return await rows.list_parked_jobs(db, workflows=workflows, statuses=statuses, limit=limit)


async def check_may_handle(
    user: str, *, workflow: str, policy: WorkflowConfig, directory: MemberDirectory
) -> None:
    """Reviewers, admins and on-call of the job's workflow resume or take over its jobs."""
    await ensure_role(user, workflow=workflow, policy=policy, roles=HANDLERS, directory=directory)


async def mark_resumable(
    db: AsyncSession, *, parked_id: str, user: str, now: datetime
) -> ParkedJob:
    """A person lets the automation pick the job up again; it continues after its last step."""
    job = await get_parked(db, parked_id=parked_id, workflow=None)
    moved = await rows.move_parked_job(
        db, parked_id, from_statuses=(PARKED,), to_status=RESUMABLE, by=user, now=now
    )
    if not moved:
        raise _already_moved(await get_parked(db, parked_id=parked_id, workflow=None))
    await record_step(
        db,
        run_id=job.run_id,
        workflow=job.workflow,
        type="park",
        name="resumable",
        status=RESUMABLE,
        output={"parked_id": parked_id, "by": user},
        now=now,
    )
    return await get_parked(db, parked_id=parked_id, workflow=None)


async def take_over(
    db: AsyncSession, *, parked_id: str, user: str, policy: WorkflowConfig, now: datetime
) -> tuple[ParkedJob, Handoff]:
    """A person handles the job: a handoff carries its context and records who took it.

    The handoff is recorded as taken over by ``user`` at once (the click is the decision),
    so its message in the review channel is the receipt, with the job's context.
    """
    job = await get_parked(db, parked_id=parked_id, workflow=None)
    moved = await rows.move_parked_job(
        db, parked_id, from_statuses=WAITING, to_status=TAKEN_OVER, by=user, now=now
    )
    if not moved:
        raise _already_moved(await get_parked(db, parked_id=parked_id, workflow=None))
    handoff = await open_handoff(
        db,
        workflow=job.workflow,
        policy=policy,
        run_id=job.run_id,
        request=HandoffRequest(
            kind="tool_failure" if job.error else "other",
            summary=f"Parked job {job.id} taken over by a person; it had stopped after: "
            f"{job.last_step[:300]}",
            error=job.error,
            last_step=job.last_step,
            context={"parked_id": job.id, "input_ref": job.input_ref, "extracted": job.extracted},
        ),
        now=now,
    )
    job = await get_parked(db, parked_id=parked_id, workflow=None)
    job.handoff_id = handoff.id
    await record_decision(
        db,
        handoff_id=handoff.id,
        policy=policy,
        decision=DecisionInput(outcome="taken_over", reviewer=user),
        now=now,
    )
    await rows.set_run_status(db, job.run_id, status="handed_over", when=PARKED)
    return job, handoff


async def claim_resumed(
    db: AsyncSession, *, workflow: str, limit: int, now: datetime
) -> Sequence[ParkedJob]:
    """Hand the automation its resumable jobs, each exactly once; none while paused."""
    await refuse_if_paused(
        db, workflow, until_resumed="parked jobs are handed out again once an admin resumes it"
    )
    jobs = await rows.claim_jobs(
        db, workflow=workflow, from_status=RESUMABLE, to_status=RESUMED, limit=limit
    )
    for job in jobs:
        await rows.set_run_status(db, job.run_id, status="running", when=PARKED)
        await record_step(
            db,
            run_id=job.run_id,
            workflow=workflow,
            type="park",
            name="resumed",
            status=RESUMED,
            output={"parked_id": job.id, "continue_after": job.last_step},
            now=now,
        )
    return jobs


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedView:
    """A parked job as ``/handrail parked`` lists it (raw text; the builders escape)."""

    id: str
    run_id: str
    workflow: str
    status: str
    last_step: str
    input_ref: str | None
    error: str | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


def parked_view(job: ParkedJob) -> ParkedView:
    return ParkedView(
        id=job.id,
        run_id=job.run_id,
        workflow=job.workflow,
        status=job.status,
        last_step=job.last_step,
        input_ref=job.input_ref,
        error=job.error,
        created_at=job.created_at,
        decided_by=job.decided_by,
        decided_at=job.decided_at,
    )


def parked_json(job: ParkedJob) -> dict[str, Any]:
    """The API shape of a job: everything the automation needs to continue."""
    return {
        "parked_id": job.id,
        "run_id": job.run_id,
        "workflow": job.workflow,
        "status": job.status,
        "input_ref": job.input_ref,
        "last_step": job.last_step,
        "extracted": job.extracted,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "decided_at": job.decided_at.isoformat() if job.decided_at else None,
        "decided_by": job.decided_by,
        "handoff_id": job.handoff_id,
    }


def _already_moved(job: ParkedJob) -> Conflict:
    by = f" by <@{job.decided_by}>" if job.decided_by else ""
    when = f" at {job.decided_at:%H:%M} UTC" if job.decided_at else ""
    return Conflict(
        f"parked job {job.id} is already {job.status.replace('_', ' ')}{by}{when}; "
        "nothing was changed",
        details=[{"loc": "parked_id", "status": job.status}],
    )
