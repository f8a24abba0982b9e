"""``/handrail brief WORKFLOW``: the last recorded policy backtest, privately, for admins.

A backtest reads a proposed workflows.yml from disk, so it is run with
``handrail brief diff --record``; Slack shows what was recorded, to the workflow's admins
(the people who may change its brief). ``handlers.commands`` dispatches here.
"""

from __future__ import annotations

from typing import Any

from handlers.blocks import Message
from handlers.blocks.backtest import backtest_message
from handlers.commands.context import command_deps
from handlers.context import directory_of
from handlers.escape import escape_mrkdwn
from workflows.backtest.recorded import latest_backtest
from workflows.errors import InvalidInput, NotFound
from workflows.roles import ensure_role

USAGE = "`/handrail brief WORKFLOW`"


async def answer_brief(context: dict[str, Any], *, user: str, text: str) -> Message:
    """The workflow named in ``text``'s last recorded backtest, if ``user`` is its admin."""
    deps = command_deps(context)
    words = text.split()
    known = ", ".join(sorted(deps.config.workflows)) or "none"
    if len(words) != 1:
        raise InvalidInput(f"say which workflow: {USAGE} (workflows: {known})", details=[])
    name = words[0]
    policy = deps.config.workflow(name)
    if policy is None:
        raise NotFound(
            f"no workflow named '{escape_mrkdwn(name[:64])}' in workflows.yml (workflows: {known})",
            details=[{"loc": "workflow", "value": name[:64]}],
        )
    await ensure_role(
        user, workflow=name, policy=policy, roles=("admin",), directory=directory_of(context)
    )
    async with deps.readers() as db:
        found = await latest_backtest(db, workflow=name, policy=policy)
    return backtest_message(name, found)
