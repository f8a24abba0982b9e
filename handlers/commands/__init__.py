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


#: The buttons the commands' answers carry, each answered as the command is: the button's
#: value is the argument (a run ID, a page, a parked job's ID).
BUTTONS: dict[ActionId, Answer] = {
    # Trace: the same answer as ``/trace`` for the run ID it carries.
    ActionId.TRACE_OPEN: lambda context, user, value: answer_trace(context, user=user, text=value),
    # Show more: the next page of a long run's steps.
    ActionId.TRACE_MORE: lambda context, user, value: answer_trace_page(
        context, user=user, value=value
    ),
    # Resume: the automation may pick the job up again, after its last completed step.
    ActionId.PARKED_RESUME: lambda context, user, value: answer_resume_parked(
        context, user=user, parked_id=value
    ),
    # Take over: a person handles the job; a handoff records it with the job's context.
    ActionId.PARKED_TAKE_OVER: lambda context, user, value: answer_take_over_parked(
        context, user=user, parked_id=value
    ),
}


def _button_handler(work: Answer) -> Callable[..., Awaitable[None]]:
    """A bolt action listener: ack first, then answer privately with ``work`` of its value."""

    async def handle_button(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        context: dict[str, Any],
    ) -> None:
        await ack()
        user, value = user_of(body), str(action.get("value") or "")
        await answer(respond, body, context, lambda: work(context, user, value))

    return handle_button


def register(app: AsyncApp) -> None:
    """Listen for the slash commands and for the buttons their answers carry."""
    for slash, sub in SLASH_COMMANDS.items():
        app.command(slash.value)(_handler(SUBCOMMANDS[sub]))
    app.command(Command.HANDRAIL.value)(_handler(_handrail))
    for action_id, work in BUTTONS.items():
        app.action(action_id.value)(_button_handler(work))
    app.action(ActionId.BATCH_APPROVE.value)(handle_batch_approve)
