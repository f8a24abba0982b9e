"""``/handrail parked`` and its Resume and Take over buttons.

A click is checked (the person must be on the job's workflow) outside the write
transaction, then decided by a conditional UPDATE: a second click on a stale list is told
who got there first. The answer is the list again, with a line on what just happened.
"""

from __future__ import annotations

from typing import Any

from handlers.blocks import Message
from handlers.blocks.status import parked_message
from handlers.commands.context import command_deps
from handlers.context import RUN_ID_KEY, directory_of
from handlers.escape import escape_mrkdwn
from workflows import parking
from workflows.ledger.trace import traceable_workflows


async def answer_parked(context: dict[str, Any], *, user: str, note: str | None = None) -> Message:
    """The waiting parked jobs of the workflows ``user`` is on."""
    deps = command_deps(context)
    mine = await traceable_workflows(user, config=deps.config, directory=directory_of(context))
    async with deps.readers() as db:
        jobs = await parking.list_parked(db, workflows=mine, statuses=parking.WAITING)
    views = [parking.parked_view(job) for job in jobs]
    return parked_message(views, now=deps.clock(), note=note)


async def _checked_job(context: dict[str, Any], *, user: str, parked_id: str) -> str:
    """Find the job and check ``user`` may handle it; returns its workflow."""
    deps = command_deps(context)
    async with deps.readers() as db:
        job = await parking.get_parked(db, parked_id=parked_id, workflow=None)
    context[RUN_ID_KEY] = job.run_id
    await parking.check_may_handle(
        user,
        workflow=job.workflow,
        policy=deps.workflow(job.workflow),
        directory=directory_of(context),
    )
    return job.workflow


async def answer_resume_parked(context: dict[str, Any], *, user: str, parked_id: str) -> Message:
    await _checked_job(context, user=user, parked_id=parked_id)
    deps = command_deps(context)
    async with deps.sessions() as db, db.begin():
        job = await parking.mark_resumable(db, parked_id=parked_id, user=user, now=deps.clock())
    note = (
        f":arrow_forward: `{escape_mrkdwn(job.id)}` will resume: the automation picks it up "
        f"and continues after `{escape_mrkdwn(job.last_step[:200])}`."
    )
    return await answer_parked(context, user=user, note=note)


async def answer_take_over_parked(context: dict[str, Any], *, user: str, parked_id: str) -> Message:
    workflow = await _checked_job(context, user=user, parked_id=parked_id)
    deps = command_deps(context)
    async with deps.sessions() as db, db.begin():
        job, handoff = await parking.take_over(
            db,
            parked_id=parked_id,
            user=user,
            policy=deps.workflow(workflow),
            now=deps.clock(),
        )
    deps.signals.notify(handoff.id)
    deps.wake_outbox()
    where = f" in <#{handoff.channel}>" if handoff.channel else ""
    note = (
        f":raising_hand: You took over `{escape_mrkdwn(job.id)}`. Its context is on handoff "
        f"`{handoff.id}`{where}; the automation will not resume it."
    )
    return await answer_parked(context, user=user, note=note)
