"""``/handrail status``, ``/handrail help`` and ``/handrail parked`` as private messages.

Pure builders over the views of ``workflows.ledger.status`` and ``workflows.parking``; every
list is capped so a busy installation still gets a valid message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

from handlers.blocks._parts import (
    Message,
    build_message,
    clock,
    context,
    duration,
    inline,
    mention,
    section,
    trace_button,
)
from handlers.ids import ActionId
from workflows.ledger.status import StatusView
from workflows.parking import ParkedView
from workflows.pause.state import ALL_WORKFLOWS

#: Each parked job takes two blocks (the job, its buttons); 15 leave room for the frame.
PARKED_SHOWN = 15

HELP = "\n".join(
    [
        "*Handrail commands* (answers are private to you)",
        "• `/trace RUN_ID`: a run's story: steps, gate verdicts, handoffs and decisions",
        "• `/pause WORKFLOW [reason]` or `/pause all [reason]`: stop at once "
        "(reviewers, admins and on-call)",
        "• `/resume WORKFLOW`: start again and release what was held (admins)",
        "• `/handrail status`: paused workflows, waiting handoffs, firing alerts, outbox backlog",
        "• `/handrail parked`: unfinished jobs to resume or take over",
        "• `/handrail digest WORKFLOW`: the weekly failure review, now",
        "• `/handrail stats WORKFLOW [30d] [action|prompt_version|reviewer]`: review metrics "
        "and suggested thresholds (reviewers and admins)",
        "• `/handrail brief WORKFLOW`: the last policy backtest recorded with "
        "`handrail brief diff --record` (admins)",
        "• `/handrail review WORKFLOW ACTION`: that action's pending cases, to approve all "
        "at once (reviewers)",
        "• `/handrail help`: this list",
        "Where `/trace`, `/pause` or `/resume` is taken by another app, type "
        "`/handrail trace RUN_ID`, `/handrail pause WORKFLOW [reason]` or "
        "`/handrail resume WORKFLOW`: the same commands.",
    ]
)


def help_message(problem: str | None = None) -> Message:
    text = f"{problem}\n\n{HELP}" if problem else HELP
    return build_message("Handrail commands", [section(text)])


def status_message(view: StatusView) -> Message:
    """Four short sections, each saying "none" rather than disappearing."""
    blocks: list[Block] = [HeaderBlock(text="Handrail status")]
    if not view.workflows:
        blocks.append(context("You are not on any workflow, so only the outbox is shown here."))
    blocks.append(section(_paused(view)))
    blocks.append(section(_pending(view)))
    blocks.append(section(_alerts(view)))
    blocks.append(section(_backlog(view)))
    return build_message("Handrail status", blocks)


def parked_message(
    jobs: Sequence[ParkedView], *, now: datetime, note: str | None = None
) -> Message:
    """Waiting parked jobs, oldest first, with Resume and Take over buttons."""
    blocks: list[Block] = [HeaderBlock(text="Parked jobs")]
    if note:
        blocks.append(section(note))
    if not jobs:
        blocks.append(section("No parked jobs are waiting on your workflows."))
    for job in jobs[:PARKED_SHOWN]:
        blocks.append(section(_job_text(job, now), accessory=trace_button(job.run_id)))
        buttons = [
            ButtonElement(text="Take over", action_id=ActionId.PARKED_TAKE_OVER.value, value=job.id)
        ]
        if job.status == "parked":
            buttons.insert(
                0,
                ButtonElement(
                    text="Resume",
                    action_id=ActionId.PARKED_RESUME.value,
                    value=job.id,
                    style="primary",
                ),
            )
        blocks.append(ActionsBlock(elements=buttons))
    if len(jobs) > PARKED_SHOWN:
        blocks.append(
            context(
                f"{len(jobs) - PARKED_SHOWN} more are waiting; GET /api/v1/parked lists them all."
            )
        )
    return build_message(f"{len(jobs)} parked job{'s' if len(jobs) != 1 else ''}", blocks)


def _job_text(job: ParkedView, now: datetime) -> str:
    age = now - job.created_at
    when = "just now" if age.total_seconds() < 1 else f"{duration(age)} ago"
    lines = [
        f"*{inline(job.workflow, 64)}* · `{inline(job.id, 40)}` · parked {when}",
        f"Stopped after: `{inline(job.last_step, 300)}`",
    ]
    if job.input_ref:
        lines.append(f"Input: {inline(job.input_ref, 300)}")
    if job.error:
        lines.append(f"Error: {inline(job.error, 600)}")
    if job.status == "resumable":
        by = f" by {mention(job.decided_by)}" if job.decided_by else ""
        lines.append(f"_Marked to resume{by}; waiting for the automation to pick it up._")
    return "\n".join(lines)


def _paused(view: StatusView) -> str:
    if not view.paused:
        return "*Paused:* none"
    lines = ["*Paused*"]
    for line in view.paused:
        name = "all workflows" if line.target == ALL_WORKFLOWS else f"`{inline(line.target, 64)}`"
        why = f": {inline(line.reason, 300)}" if line.reason else ""
        lines.append(
            f"• {name} by {mention(line.paused_by)} since {clock(line.paused_at, since=view.now)}"
            f"{why}"
        )
    return "\n".join(lines)


def _pending(view: StatusView) -> str:
    if not view.pending:
        return "*Waiting for a person:* no pending handoffs"
    lines = ["*Waiting for a person*"]
    for line in view.pending:
        lines.append(
            f"• `{inline(line.workflow, 64)}`: {line.count} pending, oldest "
            f"{duration(view.now - line.oldest_at)} old"
        )
    return "\n".join(lines)


def _alerts(view: StatusView) -> str:
    if not view.alerts:
        return "*Firing alerts:* none"
    lines = ["*Firing alerts*"]
    for alert in view.alerts:
        run = f", last run `{inline(alert.last_run_id, 130)}`" if alert.last_run_id else ""
        lines.append(
            f"• `{inline(alert.workflow, 64)}` {inline(alert.title, 200)} "
            f"({alert.count} times, last {clock(alert.last_seen, since=view.now)}{run})"
        )
    return "\n".join(lines)


def _backlog(view: StatusView) -> str:
    if not view.backlog:
        return "*Outbox:* empty, everything was delivered"
    parts = [
        f"{line.count} {line.status} (oldest {duration(view.now - line.oldest_at)})"
        for line in view.backlog
    ]
    return "*Outbox backlog:* " + ", ".join(parts)
