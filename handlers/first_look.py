"""The time to first look: kept when a reviewer first opens a handoff's Edit or Reject modal.

An Approve click is itself the first look (its decision records the time); Edit and
Reject open a modal first, and the reading happens there, so the opening is what counts.
Kept after the modal is open: ``views.open`` must use the click's trigger while it is valid.
"""

from __future__ import annotations

from typing import Any

from handlers.context import deps_of
from store.repositories.stats import set_first_look


async def note_first_look(context: dict[str, Any], *, handoff_id: str) -> None:
    deps = deps_of(context)
    async with deps.sessions() as db, db.begin():
        await set_first_look(db, handoff_id=handoff_id, now=deps.clock())
