"""Reading the pause switch of a workflow (the switch itself is thrown in ``pause``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import workflows as workflow_rows
from workflows.errors import Paused
from workflows.policy import PauseState

ALL_WORKFLOWS = "*"


async def pause_state(db: AsyncSession, workflow: str) -> PauseState | None:
    """The pause in force for ``workflow``: its own, or the one on all workflows (one read)."""
    switches = await workflow_rows.read_pause_switches(db, (workflow, ALL_WORKFLOWS), lock=None)
    return pause_in_force(switches, workflow)


async def hold_pause_state(db: AsyncSession, workflow: str) -> PauseState | None:
    """``pause_state``, with both switches held (shared) until this transaction ends.

    For work that records something a pause holds back (a decision, an expiry webhook):
    a resume of ``workflow`` or of all workflows waits for this transaction to commit,
    then releases what it held. Read without the hold, a resume could commit between the
    read and the write, and what was written as held would never be released.
    """
    switches = await workflow_rows.read_pause_switches(db, (workflow, ALL_WORKFLOWS), lock="share")
    return pause_in_force(switches, workflow)


def pause_in_force(switches: Mapping[str, Any], workflow: str) -> PauseState | None:
    """The workflow's own pause first, then the one on all workflows."""
    for name in (workflow, ALL_WORKFLOWS):
        row = switches.get(name)
        if row is not None and row.paused_at is not None:
            return PauseState(paused_by=row.paused_by or "someone", reason=row.paused_reason)
    return None


async def refuse_if_paused(db: AsyncSession, workflow: str, *, until_resumed: str) -> None:
    """Raise ``Paused`` (423) while ``workflow`` is paused, saying what waits for the resume."""
    state = await pause_state(db, workflow)
    if state is not None:
        raise Paused(f"{state.describe(workflow)}; {until_resumed}")
