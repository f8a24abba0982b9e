"""What one person's Home tab shows, read in one read-only session."""

from __future__ import annotations

from typing import Any

from handlers.blocks.home import REVIEWS_SHOWN, HomeView, OnCallLine
from handlers.commands.context import command_deps
from handlers.context import directory_of
from store.repositories import handoffs as handoff_rows
from workflows.review.handoffs import load_handoff_view
from workflows.roles import is_listed, role_ids


async def read_home(context: dict[str, Any], *, user: str, note: str | None = None) -> HomeView:
    """The pending reviews of the workflows ``user`` reviews (oldest first) and the
    workflows they are on call for; reviewers given as a usergroup count."""
    deps = command_deps(context)
    directory = directory_of(context)
    reviewing: list[str] = []
    oncall: list[OnCallLine] = []
    for name, policy in sorted(deps.config.workflows.items()):
        if await is_listed(user, role_ids(policy, "reviewer"), directory):
            reviewing.append(name)
        if await is_listed(user, role_ids(policy, "oncall"), directory):
            oncall.append(OnCallLine(workflow=name, alert_channel=policy.alert_channel))
    async with deps.readers() as db:
        ids = await handoff_rows.list_open_handoff_ids(
            db, workflows=reviewing, limit=REVIEWS_SHOWN + 1
        )
        reviews = [await load_handoff_view(db, handoff_id) for handoff_id in ids[:REVIEWS_SHOWN]]
    return HomeView(reviews=reviews, more=len(ids) > REVIEWS_SHOWN, oncall=oncall, note=note)
