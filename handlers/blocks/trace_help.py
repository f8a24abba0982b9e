"""The ``/trace`` answers that are not a trace: how to use it, and an ID that matched nothing.

An unknown ID is usually a typo or a half-pasted ID, so the answer offers the closest IDs
and the latest runs the person may read, each with a Trace button. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from handlers.blocks._parts import (
    Message,
    build_message,
    clock,
    context,
    inline,
    section,
    trace_button,
)
from workflows.ledger.trace import RunBrief

HOW_TO = (
    "*Usage:* `/trace RUN_ID` shows a run's story, privately: its steps in order, every gate "
    "verdict, handoff and decision.\nA run ID looks like `run_01JDZ3K6Q4J1P6Y5M2T8W9X0AB`; "
    "the *Trace* button on a handoff message opens the same view."
)


def trace_how_to(problem: str | None = None) -> Message:
    """A short how-to, after what was wrong with the request (if anything)."""
    text = f"{problem}\n{HOW_TO}" if problem else HOW_TO
    return build_message("How to use /trace", [section(text)])


def trace_not_found(raw: str, nearest: Sequence[RunBrief], latest: Sequence[RunBrief]) -> Message:
    """No run has this ID: the nearest IDs and the latest runs, each with a Trace button."""
    shown = inline(raw, 130)
    blocks: list[Block] = [section(f"No run `{shown}` in any workflow you can trace.")]
    if nearest:
        blocks.append(section("*Did you mean*"))
        blocks.extend(_run_row(run) for run in nearest)
    if latest:
        blocks.append(section("*Latest runs you can trace*"))
        blocks.extend(_run_row(run) for run in latest)
    if not nearest and not latest:
        blocks.append(
            context(
                "You are not a reviewer, admin or on-call of any workflow with runs; "
                "ask a workflow's admin to add you in workflows.yml."
            )
        )
    return build_message(f"No run {shown}", blocks)


def _run_row(run: RunBrief) -> Block:
    text = (
        f"`{inline(run.run_id, 130)}` · {inline(run.workflow, 64)} · "
        f"{inline(run.status, 32)} · {clock(run.started_at)}"
    )
    return section(text, accessory=trace_button(run.run_id))
