"""Button clicks on handoff messages: approve, edit, reject, take over, retry.

Every click is acknowledged first (Slack gives three seconds and bolt runs the rest in a
detached task), then checked (the clicker must review the handoff's workflow) and recorded
in its own unit of work. Refusals, late clicks and missing handoffs raise the errors of
``workflows.errors``; ``handlers.errors`` turns them into an ephemeral reply in one place.
The updated message and the thread reply go out through the outbox, never from here.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks import edit_modal, reject_modal
from handlers.context import check_reviewer, decide, ensure_pending, read_handoff
from handlers.ids import ActionId
from workflows.decisions import DecisionInput


def clicked(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str]:
    """The clicking user and the handoff ID the button carries as its value."""
    return body["user"]["id"], str(action.get("value") or "")


async def handle_handoff_approve(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
) -> None:
    """Approve the draft as it stands."""
    await ack()
    user, handoff_id = clicked(body, action)
    await decide(
        context, handoff_id=handoff_id, decision=DecisionInput(outcome="approved", reviewer=user)
    )


async def handle_handoff_take_over(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
) -> None:
    """ "I'll handle it" on a tool failure: the run is handed over to a person."""
    await ack()
    user, handoff_id = clicked(body, action)
    await decide(
        context,
        handoff_id=handoff_id,
        decision=DecisionInput(outcome="taken_over", reviewer=user),
    )


async def handle_handoff_retry(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
) -> None:
    """Retry on a tool failure: the automation is told to resume from its last step."""
    await ack()
    user, handoff_id = clicked(body, action)
    await decide(
        context,
        handoff_id=handoff_id,
        decision=DecisionInput(outcome="retry_requested", reviewer=user),
    )


async def handle_handoff_edit(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """Open the Edit modal prefilled with the draft; the submission records the decision.

    The role and the state are checked before the modal opens, so nobody edits a draft
    they may not approve or one that someone else already decided.
    """
    await ack()
    user, handoff_id = clicked(body, action)
    await check_reviewer(context, handoff_id=handoff_id, user=user)
    view = await read_handoff(context, handoff_id)
    ensure_pending(view)
    await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(view))


async def handle_handoff_reject(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """Open the Reject modal, which asks for a reason and an optional category."""
    await ack()
    user, handoff_id = clicked(body, action)
    await check_reviewer(context, handoff_id=handoff_id, user=user)
    view = await read_handoff(context, handoff_id)
    ensure_pending(view)
    await client.views_open(trigger_id=body["trigger_id"], view=reject_modal(view))


def register(app: AsyncApp) -> None:
    """Listen for every handoff button."""
    app.action(ActionId.HANDOFF_APPROVE.value)(handle_handoff_approve)
    app.action(ActionId.HANDOFF_EDIT.value)(handle_handoff_edit)
    app.action(ActionId.HANDOFF_REJECT.value)(handle_handoff_reject)
    app.action(ActionId.HANDOFF_TAKE_OVER.value)(handle_handoff_take_over)
    app.action(ActionId.HANDOFF_RETRY.value)(handle_handoff_retry)
