"""Slash commands (``/trace``, ``/pause``, ``/resume``, ``/handrail``) and the buttons that
give the same answers (Trace, Show more, and Resume / Take over on the parked list).

Every handler acknowledges first (Slack allows three seconds), then works in its own unit
of work and answers privately through the request's ``response_url``. Refusals and bad
input raise the errors of ``workflows.errors`` before anything changes;
``command_context.answer`` turns them into a short private answer with the wording of
``handlers.errors`` (see there why they are not re-raised to bolt).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.batch_review import answer_review, handle_batch_approve
from handlers.blocks import Message
from handlers.blocks.status import help_message, status_message
from handlers.command_context import answer, command_deps, user_of
from handlers.context import directory_of
from handlers.digest_command import answer_digest
from handlers.escape import escape_mrkdwn
from handlers.ids import ActionId, Command
from handlers.parking import answer_parked, answer_resume_parked, answer_take_over_parked
from handlers.stats_command import answer_stats
from handlers.switching import answer_pause, answer_resume
from handlers.tracing import answer_trace, answer_trace_page
from workflows.status import read_status
from workflows.trace import traceable_workflows


async def handle_trace_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: dict[str, Any]
) -> None:
    """``/trace RUN_ID``: the run's story, privately."""
    await ack()
    user, text = user_of(command), str(command.get("text") or "")
    await answer(respond, command, context, lambda: answer_trace(context, user=user, text=text))


async def handle_pause_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: dict[str, Any]
) -> None:
    """``/pause WORKFLOW|all [reason]``: stop it for every instance at once."""
    await ack()
    user, text = user_of(command), str(command.get("text") or "")
    await answer(respond, command, context, lambda: answer_pause(context, user=user, text=text))


async def handle_resume_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: dict[str, Any]
) -> None:
    """``/resume WORKFLOW``: admins only; held deliveries are released in order."""
    await ack()
    user, text = user_of(command), str(command.get("text") or "")
    await answer(respond, command, context, lambda: answer_resume(context, user=user, text=text))


async def handle_handrail_command(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: dict[str, Any]
) -> None:
    """``/handrail status|parked|digest WORKFLOW|stats WORKFLOW|review WORKFLOW ACTION|help``."""
    await ack()
    user, text = user_of(command), str(command.get("text") or "")
    await answer(respond, command, context, lambda: _handrail(context, user=user, text=text))


async def _handrail(context: dict[str, Any], *, user: str, text: str) -> Message:
    words = text.split()
    subcommand = words[0].lower() if words else "help"
    if subcommand == "status":
        deps = command_deps(context)
        mine = await traceable_workflows(user, config=deps.config, directory=directory_of(context))
        async with deps.readers() as db:
            view = await read_status(db, workflows=mine, now=deps.clock())
        return status_message(view)
    if subcommand == "parked":
        return await answer_parked(context, user=user)
    if subcommand == "help":
        return help_message()
    if subcommand == "digest":  # the weekly failure review on demand (issue 5)
        return await answer_digest(context, user=user, text=" ".join(words[1:]))
    if subcommand == "review":  # batch review of one workflow's action (issue 14)
        return await answer_review(context, user=user, text=" ".join(words[1:]))
    if subcommand == "stats":
        return await answer_stats(context, user=user, text=" ".join(words[1:]))
    return help_message(f"`/handrail {escape_mrkdwn(words[0][:40])}` is not a command.")


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
    app.command(Command.TRACE.value)(handle_trace_command)
    app.command(Command.PAUSE.value)(handle_pause_command)
    app.command(Command.RESUME.value)(handle_resume_command)
    app.command(Command.HANDRAIL.value)(handle_handrail_command)
    app.action(ActionId.TRACE_OPEN.value)(handle_trace_open)
    app.action(ActionId.TRACE_MORE.value)(handle_trace_more)
    app.action(ActionId.PARKED_RESUME.value)(handle_parked_resume)
    app.action(ActionId.PARKED_TAKE_OVER.value)(handle_parked_take_over)
    app.action(ActionId.BATCH_APPROVE.value)(handle_batch_approve)
