"""``/pause`` and ``/resume`` from Slack: parse, check the role, throw the switch, answer.

The role check happens before the write transaction opens (it may ask Slack for a
usergroup's members, and on SQLite a write transaction holds the one write lock). After
commit the outbox is woken (banners, alert notices) and, on resume, the long-polls of
released decisions are answered.
"""

from __future__ import annotations

from typing import Any

from handlers.blocks import Message
from handlers.blocks.pause import pause_answer, resume_answer
from handlers.commands.context import command_deps
from handlers.context import directory_of
from handlers.escape import escape_mrkdwn
from workflows.config.brief import HandrailConfig
from workflows.errors import InvalidInput, NotFound
from workflows.pause.switch import (
    check_may_pause,
    check_may_resume,
    pause_workflow,
    resolve_target,
    resume_workflow,
)

PAUSE_USAGE = "Use `/pause WORKFLOW [reason]`, or `/pause all [reason]` to stop every workflow."
RESUME_USAGE = "Use `/resume WORKFLOW`, or `/resume all`."


def _split(text: str, usage: str) -> tuple[str, str | None]:
    parts = text.strip().split(maxsplit=1)
    if not parts:
        raise InvalidInput(f"Which workflow? {usage}", details=[{"loc": "workflow"}])
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _target(config: HandrailConfig, name: str) -> str:
    """``resolve_target``, with the typed name escaped in the refusal: it goes out as mrkdwn.

    The domain's message quotes the name as typed (right for the API's JSON); in Slack a
    typed ``<!channel>`` or ``<@U…>`` would ping people.
    """
    try:
        return resolve_target(config, name)
    except NotFound as error:
        known = ", ".join(sorted(config.workflows)) or "none"
        raise NotFound(
            f"no workflow named '{escape_mrkdwn(name[:64])}' in workflows.yml "
            f"(known: {known}; or 'all')",
            details=error.details,
        ) from None


async def answer_pause(context: dict[str, Any], *, user: str, text: str) -> Message:
    deps = command_deps(context)
    name, reason = _split(text, PAUSE_USAGE)
    target = _target(deps.config, name)
    await check_may_pause(user, config=deps.config, target=target, directory=directory_of(context))
    async with deps.sessions() as db, db.begin():
        outcome = await pause_workflow(
            db, config=deps.config, workflow=target, actor=user, reason=reason, now=deps.clock()
        )
    deps.wake_outbox()
    return pause_answer(outcome)


async def answer_resume(context: dict[str, Any], *, user: str, text: str) -> Message:
    deps = command_deps(context)
    name, note = _split(text, RESUME_USAGE)
    target = _target(deps.config, name)
    await check_may_resume(user, config=deps.config, target=target, directory=directory_of(context))
    async with deps.sessions() as db, db.begin():
        outcome = await resume_workflow(
            db, config=deps.config, workflow=target, actor=user, now=deps.clock(), note=note
        )
    for handoff_id in outcome.released_handoffs:
        deps.signals.notify(handoff_id)
    deps.wake_outbox()
    return resume_answer(outcome)
