"""``/handrail digest WORKFLOW``: the weekly failure review, on demand and privately.

The same review the alert channel gets on Monday, for the seven days up to now. Only the
workflow's reviewers, admins and on-call may read it (it quotes errors and rejection
reasons); ``handlers.commands`` dispatches the subcommand here.
"""

from __future__ import annotations

from typing import Any

from handlers.blocks import Message
from handlers.blocks.digest import digest_message
from handlers.commands.context import command_deps
from handlers.context import directory_of
from handlers.escape import escape_mrkdwn
from workflows.digest.review import build_digest
from workflows.errors import InvalidInput, NotFound
from workflows.roles import Role, ensure_role

READERS: tuple[Role, ...] = ("reviewer", "admin", "oncall")


async def answer_digest(context: dict[str, Any], *, user: str, text: str) -> Message:
    """The review of the workflow named in ``text``, if ``user`` is on it."""
    deps = command_deps(context)
    name = text.strip()
    known = ", ".join(sorted(deps.config.workflows)) or "none"
    if not name:
        raise InvalidInput(
            f"say which workflow: `/handrail digest WORKFLOW` (workflows: {known})",
            details=[{"loc": "workflow"}],
        )
    policy = deps.config.workflow(name)
    if policy is None:
        raise NotFound(
            f"no workflow named '{escape_mrkdwn(name[:64])}' in workflows.yml (workflows: {known})",
            details=[{"loc": "workflow", "value": name[:64]}],
        )
    await ensure_role(
        user, workflow=name, policy=policy, roles=READERS, directory=directory_of(context)
    )
    async with deps.readers() as db:
        digest = await build_digest(db, config=deps.config, workflow=name, now=deps.clock())
    return digest_message(digest)
