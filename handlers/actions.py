"""Button clicks on handoff messages: approve, edit, reject, take over, retry.

Every click is acknowledged within Slack's three seconds (bolt answers as soon as ``ack()``
is called) by ``acked_first``, which every handler here is registered through. A click
that decides first checks the clicker (they must review the handoff's workflow) and claims
the handoff, in one short write, so decisions keep the order of the acknowledgements; the
decision is recorded from the claim just after, in a batch (``bot.decisions.recorder``).
Refusals, late clicks and missing handoffs raise the errors of ``workflows.errors``;
``handlers.errors`` turns them into an ephemeral reply. The updated message and the thread
reply go out through the outbox, never from here. The same buttons are in the App Home
tab (``handlers.home``); a click there carries ``view`` instead of a channel and message,
which nothing here reads: the handoff ID is the button's value."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.approvals import claim_or_vote
from handlers.blocks import edit_modal, reject_modal
from handlers.blocks.quorum import round_of_block
from handlers.context import (
    check_reviewer,
    decide,
    ensure_pending,
    read_handoff,
)
from handlers.errors import answered
from handlers.first_look import note_first_look
from handlers.home import republishing
from handlers.ids import ActionId
from workflows.review.decisions import DecisionInput


@dataclass(frozen=True, slots=True)
class Click:
    """One click on a handoff button, as the work after the ack needs it."""

    user: str
    handoff_id: str
    trigger_id: str
    context: dict[str, Any]
    client: AsyncWebClient
    block_id: str = ""
    """The clicked button's block: under a quorum, it names the text the message showed."""


ClickWork = Callable[[Click], Awaitable[None]]
ClickClaim = Callable[[Click], Awaitable[bool]]
Listener = Callable[..., Awaitable[None]]


def acked_first(
    work: ClickWork, *, claim: ClickClaim | None = None, slots: asyncio.Semaphore | None = None
) -> Listener:
    """The bolt listener for ``work``: ack, then the work, any error answered ephemerally.

    With ``claim``, a click that decides first claims its decision, before the ack: the
    order in which clicks are acknowledged is then the order in which they decide, and a
    Reject submitted after an acknowledged Approve finds the handoff taken. A claimed
    click is done (its decision is recorded from the claim); ``work`` runs only when the
    claim failed, to record what it can or tell the person who was first.

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
        async with answered(body=body, context=context, respond=respond, client=client):
            click = Click(
                user=body["user"]["id"],
                handoff_id=str(action.get("value") or ""),
                trigger_id=str(body.get("trigger_id") or ""),
                context=context,
                client=client,
                block_id=str(action.get("block_id") or ""),
            )
            claimed = False
            try:
                claimed = claim is not None and await claim(click)
            finally:
                await ack()
            if claimed:
                return
            if slots is None:
                await work(click)
            else:
                async with slots:
                    await work(click)

    listener.__name__ = listener.__qualname__ = work.__name__
    return listener


def claiming(outcome: str) -> ClickClaim:
    """Claim the click's handoff for ``outcome`` (the recorder is woken once it is written),
    or count the click's vote when the handoff's action needs a quorum."""

    async def claim_click(click: Click) -> bool:
        decision = DecisionInput(outcome=outcome, reviewer=click.user)
        return await claim_or_vote(
            click.context,
            handoff_id=click.handoff_id,
            decision=decision,
            seen_round=round_of_block(click.block_id),
        )

    return claim_click


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


#: Refused clicks (their claim failed) answered at once; each takes a few ms of the loop.
DECISIONS_AT_ONCE = 4


def register(app: AsyncApp) -> None:
    """Listen for every handoff button.

    Clicks that decide claim their handoff before the ack; the few whose claim fails share
    a few slots to be answered. Edit and Reject only open a modal, which must happen while
    the click's ``trigger_id`` is valid, so they never wait.
    """
    deciding = asyncio.Semaphore(DECISIONS_AT_ONCE)
    listeners = {
        ActionId.HANDOFF_APPROVE: acked_first(
            handle_handoff_approve, claim=claiming("approved"), slots=deciding
        ),
        ActionId.HANDOFF_EDIT: acked_first(handle_handoff_edit),
        ActionId.HANDOFF_REJECT: acked_first(handle_handoff_reject),
        ActionId.HANDOFF_TAKE_OVER: acked_first(
            handle_handoff_take_over, claim=claiming("taken_over"), slots=deciding
        ),
        ActionId.HANDOFF_RETRY: acked_first(
            handle_handoff_retry, claim=claiming("retry_requested"), slots=deciding
        ),
    }
    for action_id, listener in listeners.items():
        # The same buttons are in the Home tab, which is published again after a click.
        app.action(action_id.value)(republishing(listener))
