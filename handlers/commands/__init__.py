"""Slash commands (``/trace``, ``/pause``, ``/resume``, ``/handrail``) and the buttons that
give the same answers (Trace, Show more, and Resume / Take over on the parked list).

One table, ``SUBCOMMANDS``, maps each ``/handrail`` subcommand to its answer; ``/trace``,
``/pause`` and ``/resume`` are entries of the same table under a name of their own, so a
workspace where ``/trace`` is taken types ``/handrail trace RUN_ID`` and gets the same answer.

Every handler acknowledges first (Slack allows three seconds), then works in its own unit
of work and answers privately through the request's ``response_url``. Refusals and bad
input raise the errors of ``workflows.errors`` before anything changes;
``handlers.commands.context.answer`` turns them into a short private answer with the wording of
``handlers.errors`` (see there why they are not re-raised to bolt).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.blocks import Message
from handlers.blocks.status import help_message, status_message
from handlers.commands.brief import answer_brief
from handlers.commands.context import answer, command_deps, user_of
from handlers.commands.digest import answer_digest
from handlers.commands.parked import answer_parked, answer_resume_parked, answer_take_over_parked
from handlers.commands.pause import answer_pause, answer_resume
from handlers.commands.review import answer_review, handle_batch_approve
from handlers.commands.stats import answer_stats
from handlers.commands.trace import answer_trace, answer_trace_page
from handlers.context import directory_of
from handlers.escape import escape_mrkdwn
from handlers.ids import ActionId, Command
from workflows.ledger.status import read_status
from workflows.ledger.trace import traceable_workflows

Answer = Callable[[dict[str, Any], str, str], Awaitable[Message]]


async def _status(context: dict[str, Any], user: str, text: str) -> Message:
    deps = command_deps(context)
    mine = await traceable_workflows(user, config=deps.config, directory=directory_of(context))
    async with deps.readers() as db:
        view = await read_status(db, workflows=mine, now=deps.clock())
    return status_message(view)


async def _help(context: dict[str, Any], user: str, text: str) -> Message:
    return help_message()


#: Every answer a command gives, by subcommand of ``/handrail``: the one dispatch table.
#: ``/trace``, ``/pause`` and ``/resume`` are the same answers under their own names, for
#: workspaces where those names are free; ``/handrail trace|pause|resume`` always works.
SUBCOMMANDS: dict[str, Answer] = {
    "trace": lambda context, user, text: answer_trace(context, user=user, text=text),
    "pause": lambda context, user, text: answer_pause(context, user=user, text=text),
    "resume": lambda context, user, text: answer_resume(context, user=user, text=text),
    "status": _status,
    "parked": lambda context, user, text: answer_parked(context, user=user),
    "digest": lambda context, user, text: answer_digest(context, user=user, text=text),
    "stats": lambda context, user, text: answer_stats(context, user=user, text=text),
    "brief": lambda context, user, text: answer_brief(context, user=user, text=text),
    "review": lambda context, user, text: answer_review(context, user=user, text=text),
    "help": _help,
}

#: The top-level slash commands and the subcommand each one is.
SLASH_COMMANDS: dict[Command, str] = {
    Command.TRACE: "trace",
    Command.PAUSE: "pause",
    Command.RESUME: "resume",
}


async def _handrail(context: dict[str, Any], user: str, text: str) -> Message:
    """``/handrail SUB ARGS``: the table's answer for ``SUB``, or the list of commands."""
    sub, _, rest = text.strip().partition(" ")
    if not sub:
        return help_message()
    work = SUBCOMMANDS.get(sub.lower())
    if work is None:
        return help_message(f"`/handrail {escape_mrkdwn(sub[:40])}` is not a command.")
    return await work(context, user, rest.strip())


def _handler(work: Answer) -> Callable[..., Awaitable[None]]:
    """A bolt command listener: ack first, then answer privately with ``work``'s message."""

    async def handle_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: dict[str, Any]
    ) -> None:
        await ack()
        user, text = user_of(command), str(command.get("text") or "")
        await answer(respond, command, context, lambda: work(context, user, text))

    return handle_command


async def handle_trace_open(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: dict[str, Any],
) -> None:
    """The Trace button (its value is the run ID): the same answer as ``/trace``."""
    await ack()
    user, value = user_of(body), str(action.get("value") or "")
    await answer(respond, body, context, lambda: answer_trace(context, user=user, text=value))


async def handle_trace_more(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: dict[str, Any],
) -> None:
    """Show more: the next page of a long run's steps."""
    await ack()
    user, value = user_of(body), str(action.get("value") or "")
    await answer(respond, body, context, lambda: answer_trace_page(context, user=user, value=value))


async def handle_parked_resume(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: dict[str, Any],
) -> None:
    """Resume: the automation may pick the job up again, after its last completed step."""
    await ack()
    user, parked_id = user_of(body), str(action.get("value") or "")
    await answer(
        respond,
        body,
        context,
        lambda: answer_resume_parked(context, user=user, parked_id=parked_id),
    )


async def handle_parked_take_over(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: dict[str, Any],
) -> None:
    """Take over: a person handles the job; a handoff records it with the job's context."""
    await ack()
    user, parked_id = user_of(body), str(action.get("value") or "")
    await answer(
        respond,
        body,
        context,
        lambda: answer_take_over_parked(context, user=user, parked_id=parked_id),
    )


def register(app: AsyncApp) -> None:
    """Listen for the slash commands and for the buttons their answers carry."""
    for slash, sub in SLASH_COMMANDS.items():
        app.command(slash.value)(_handler(SUBCOMMANDS[sub]))
    app.command(Command.HANDRAIL.value)(_handler(_handrail))
    app.action(ActionId.TRACE_OPEN.value)(handle_trace_open)
    app.action(ActionId.TRACE_MORE.value)(handle_trace_more)
    app.action(ActionId.PARKED_RESUME.value)(handle_parked_resume)
    app.action(ActionId.PARKED_TAKE_OVER.value)(handle_parked_take_over)
    app.action(ActionId.BATCH_APPROVE.value)(handle_batch_approve)
