"""What the slash commands and their buttons share: dependencies, the user, the reply.

Commands need the whole ``workflows.yml`` (to resolve ``all``, to list the workflows a
person is on), so their dependencies are ``handlers.context.Deps`` plus ``config``. Every
answer is private: an ephemeral post to the request's ``response_url``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from slack_bolt.async_app import AsyncRespond

from handlers.blocks import Message
from handlers.context import DEPS_KEY, Deps
from handlers.errors import describe
from workflows.config.brief import HandrailConfig


class CommandDeps(Deps, Protocol):
    @property
    def config(self) -> HandrailConfig: ...


def command_deps(context: Mapping[str, Any]) -> CommandDeps:
    deps: CommandDeps = context[DEPS_KEY]
    return deps


def user_of(body: Mapping[str, Any]) -> str:
    """The person behind a command (``user_id``) or a click (``user.id``)."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    return str(user or "")


async def reply(respond: AsyncRespond, message: Message) -> None:
    """Answer privately, as a new ephemeral message (never replacing the one clicked)."""
    await respond(
        text=message.text,
        blocks=message.blocks or None,
        response_type="ephemeral",
        replace_original=False,
    )


async def answer(
    respond: AsyncRespond,
    body: dict[str, Any],
    context: dict[str, Any],
    work: Callable[[], Awaitable[Message]],
) -> None:
    """Run ``work`` (after ``ack()``) and send its answer; a failure is answered here too.

    The wording is ``handlers.errors.describe``'s, the one place errors become words (it
    also logs unexpected ones with an error ID). Not re-raising matters: when a listener
    raises after ``ack()`` within the 10 ms bolt polls for the ack, bolt resets the ack and
    reports the request as unacknowledged, so Slack would get a 404 three seconds later for
    a command that was answered. Refusals (no database work) are that fast.
    """
    try:
        message = await work()
    except Exception as error:  # every failure gets its private answer; see the docstring
        message = Message(text=describe(error, body, context), blocks=[])
    await reply(respond, message)
