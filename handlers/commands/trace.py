"""``/trace`` and the Trace and Show more buttons: one answer, three ways in.

The run is read and the role checked in one read-only session (no write lock on SQLite);
an unknown ID is answered with the nearest IDs and the latest runs of the workflows the
person may trace, never with anyone else's.
"""

from __future__ import annotations

from typing import Any

from handlers.blocks import Message
from handlers.blocks.trace import trace_message, trace_page_message
from handlers.blocks.trace_help import trace_how_to, trace_not_found
from handlers.commands.context import command_deps
from handlers.context import RUN_ID_KEY, directory_of
from handlers.escape import escape_mrkdwn
from store.repositories import runs as run_rows
from workflows.errors import InvalidInput
from workflows.identifiers import RUN_ID
from workflows.ledger.trace import (
    check_may_trace,
    find_runs_near,
    read_trace,
    read_trace_page,
    traceable_workflows,
)


def parse_run_id(text: str) -> str | Message:
    """The run ID typed after ``/trace``, or the how-to explaining what was wrong."""
    raw = text.strip().strip("`").strip()
    if not raw:
        return trace_how_to("Which run? Give its ID.")
    if not RUN_ID.fullmatch(raw):
        shown = escape_mrkdwn(raw[:80]) + ("…" if len(raw) > 80 else "")
        return trace_how_to(
            f"`{shown}` is not a run ID: one word of letters, digits and `_ . : -`, "
            "at most 128 characters."
        )
    return raw


async def answer_trace(context: dict[str, Any], *, user: str, text: str) -> Message:
    """The trace of the run named in ``text``, or the how-to, or the nearest runs."""
    parsed = parse_run_id(text)
    if not isinstance(parsed, str):
        return parsed
    deps = command_deps(context)
    directory = directory_of(context)
    async with deps.readers() as db:
        run = await run_rows.get_run(db, parsed)
        if run is None:
            mine = await traceable_workflows(user, config=deps.config, directory=directory)
            nearest, latest = await find_runs_near(db, parsed, workflows=mine)
            return trace_not_found(parsed, nearest, latest)
        context[RUN_ID_KEY] = run.id
        await check_may_trace(user, config=deps.config, workflow=run.workflow, directory=directory)
        view = await read_trace(db, run=run)
    return trace_message(view)


async def answer_trace_page(context: dict[str, Any], *, user: str, value: str) -> Message:
    """The page a Show more button asks for (its value: ``RUN_ID FROM_SEQ``)."""
    run_id, _, start = value.partition(" ")
    if not RUN_ID.fullmatch(run_id) or not start.isdigit():
        raise InvalidInput(
            "This Show more button is damaged; run /trace again.", details=[{"loc": "value"}]
        )
    deps = command_deps(context)
    context[RUN_ID_KEY] = run_id
    async with deps.readers() as db:
        run = await run_rows.get_run(db, run_id)
        if run is None:
            return trace_not_found(run_id, [], [])
        await check_may_trace(
            user, config=deps.config, workflow=run.workflow, directory=directory_of(context)
        )
        page = await read_trace_page(db, run=run, from_seq=int(start))
    return trace_page_message(page)
