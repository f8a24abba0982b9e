"""Button clicks on handoff messages: approve, edit, reject, take over, retry.

Every click is acknowledged first (Slack gives three seconds; bolt answers as soon as
``ack()`` is called) by ``acked_first``, which every handler here is registered through.
The work then checks the clicker (they must review the handoff's workflow) and records the
decision in its own unit of work. Refusals, late clicks and missing handoffs raise the
errors of ``workflows.errors``; ``handlers.errors`` turns them into an ephemeral reply.
The updated message and the thread reply go out through the outbox, never from here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks import edit_modal, reject_modal
from handlers.context import check_reviewer, decide, ensure_pending, read_handoff
from handlers.errors import answered
from handlers.first_look import note_first_look
from handlers.ids import ActionId
from workflows.decisions import DecisionInput


@dataclass(frozen=True, slots=True)
class Click:
    """One click on a handoff button, as the work after the ack needs it."""

    user: str
    handoff_id: str
    trigger_id: str
    context: dict[str, Any]
    client: AsyncWebClient


ClickWork = Callable[[Click], Awaitable[None]]
Listener = Callable[..., Awaitable[None]]


def acked_first(work: ClickWork, *, slots: asyncio.Semaphore | None = None) -> Listener:
    """The bolt listener for ``work``: ack, then the work, any error answered ephemerally.

    With ``slots``, the work waits for one: a burst of clicks then queues its work in
    order instead of interleaving all of it with the acknowledgements of newer clicks,
    which Slack needs within three seconds.
    """

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        async with answered(body=body, context=context, respond=respond, client=client):
            click = Click(
                user=body["user"]["id"],
                handoff_id=str(action.get("value") or ""),
                trigger_id=str(body.get("trigger_id") or ""),
                context=context,
                client=client,
            )
            if slots is None:
                await work(click)
            else:
                async with slots:
                    await work(click)

    listener.__name__ = listener.__qualname__ = work.__name__
    return listener


async def handle_handoff_approve(click: Click) -> None:
    """Approve the draft as it stands."""
    decision = DecisionInput(outcome="approved", reviewer=click.user)
    await decide(click.context, handoff_id=click.handoff_id, decision=decision)


async def handle_handoff_take_over(click: Click) -> None:
    """ "I'll handle it" on a tool failure: the run is handed over to a person."""
    decision = DecisionInput(outcome="taken_over", reviewer=click.user)
    await decide(click.context, handoff_id=click.handoff_id, decision=decision)


async def handle_handoff_retry(click: Click) -> None:
    """Retry on a tool failure: the automation is told to resume from its last step."""
    decision = DecisionInput(outcome="retry_requested", reviewer=click.user)
    await decide(click.context, handoff_id=click.handoff_id, decision=decision)


async def handle_handoff_edit(click: Click) -> None:
    """Open the Edit modal prefilled with the draft; its submission records the decision.

    The role and the state are checked before the modal opens, so nobody edits a draft
    they may not approve, or one that someone else already decided.
    """
    await check_reviewer(click.context, handoff_id=click.handoff_id, user=click.user)
    view = await read_handoff(click.context, click.handoff_id)
    ensure_pending(view)
    await click.client.views_open(trigger_id=click.trigger_id, view=edit_modal(view))
    await note_first_look(click.context, handoff_id=click.handoff_id)


async def handle_handoff_reject(click: Click) -> None:
    """Open the Reject modal, which asks for a reason and an optional category."""
    await check_reviewer(click.context, handoff_id=click.handoff_id, user=click.user)
    view = await read_handoff(click.context, click.handoff_id)
    ensure_pending(view)
    await click.client.views_open(trigger_id=click.trigger_id, view=reject_modal(view))
    await note_first_look(click.context, handoff_id=click.handoff_id)


#: Decisions from clicks recorded at once; each takes a few ms of the event loop.
DECISIONS_AT_ONCE = 4


def register(app: AsyncApp) -> None:
    """Listen for every handoff button.

    Clicks that record a decision share a few slots; Edit and Reject only open a modal,
    which must happen while the click's ``trigger_id`` is valid, so they never wait.
    """
    deciding = asyncio.Semaphore(DECISIONS_AT_ONCE)
    app.action(ActionId.HANDOFF_APPROVE.value)(acked_first(handle_handoff_approve, slots=deciding))
    app.action(ActionId.HANDOFF_EDIT.value)(acked_first(handle_handoff_edit))
    app.action(ActionId.HANDOFF_REJECT.value)(acked_first(handle_handoff_reject))
    app.action(ActionId.HANDOFF_TAKE_OVER.value)(
        acked_first(handle_handoff_take_over, slots=deciding)
    )
    app.action(ActionId.HANDOFF_RETRY.value)(acked_first(handle_handoff_retry, slots=deciding))
