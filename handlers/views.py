"""Submissions of the Edit and Reject modals.

Unlike a click, a submission is answered with its outcome: Slack keeps the modal open and
shows a message under a field only if the *ack* carries ``response_action="errors"``. So
these handlers validate and record the decision first and ``ack()`` last. That is still
well inside Slack's three seconds: validation is pure, the role check is cached and the
decision is one short transaction. Any ``HandrailError`` raised on the way (bad input,
not a reviewer, already decided) is turned into field errors by ``handlers.errors``.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.approvals import decide_or_vote
from handlers.blocks import PLAIN_TEXT_INPUT_MAX, REJECT_CATEGORIES, REJECT_REASON_MAX
from handlers.context import decide, read_handoff
from handlers.ids import BlockId, CallbackId, InputId
from workflows.errors import InvalidInput
from workflows.review.decisions import DecisionInput


def field(view: dict[str, Any], block: BlockId, element: InputId) -> dict[str, Any]:
    """The submitted state of one input, ``{}`` when Slack left it out."""
    values: dict[str, Any] = view.get("state", {}).get("values", {})
    state: dict[str, Any] = values.get(block.value, {}).get(element.value) or {}
    return state


def invalid(block: BlockId, message: str) -> InvalidInput:
    """An error shown under the input ``block`` of the modal."""
    return InvalidInput(message, details=[{"loc": block.value}])


def edited_text(view: dict[str, Any]) -> str:
    """The edited draft, refused when blank or longer than a Slack text box holds."""
    text = str(field(view, BlockId.EDIT_TEXT, InputId.EDIT_TEXT).get("value") or "")
    if not text.strip():
        raise invalid(BlockId.EDIT_TEXT, "The text is empty: write what should go out.")
    if len(text) > PLAIN_TEXT_INPUT_MAX:
        raise invalid(
            BlockId.EDIT_TEXT,
            f"The text has {len(text):,} characters; at most {PLAIN_TEXT_INPUT_MAX:,} fit.",
        )
    return text


def reject_reason(view: dict[str, Any]) -> tuple[str, str | None]:
    """The reason (required, at most 500 characters) and the category (optional, known)."""
    reason = str(field(view, BlockId.REJECT_REASON, InputId.REJECT_REASON).get("value") or "")
    reason = reason.strip()
    if not reason:
        raise invalid(BlockId.REJECT_REASON, "Say why in a line or two: the owner reads this.")
    if len(reason) > REJECT_REASON_MAX:
        raise invalid(
            BlockId.REJECT_REASON,
            f"The reason has {len(reason):,} characters; keep it under {REJECT_REASON_MAX}.",
        )
    option = field(view, BlockId.REJECT_CATEGORY, InputId.REJECT_CATEGORY).get("selected_option")
    category = option.get("value") if isinstance(option, dict) else None
    if category is not None and category not in REJECT_CATEGORIES:
        raise invalid(BlockId.REJECT_CATEGORY, "Pick one of the listed categories.")
    return reason, category


async def handle_edit_submission(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    """Record the edited draft (its diff against the original is kept) as the decision.

    A draft longer than the text box was shown cut; saving it would approve the cut text,
    so it is refused (the modal of such a draft has no box, but one opened before that
    may still be on someone's screen).
    """
    text = edited_text(view)
    handoff_id = str(view.get("private_metadata") or "")
    handoff = await read_handoff(context, handoff_id)
    if handoff.draft_too_long_to_edit:
        raise invalid(
            BlockId.EDIT_TEXT,
            f"This draft has {len(handoff.draft or ''):,} characters, more than a text box "
            "holds, so saving would cut it. Close this; read it in the message's thread and "
            "Approve or Reject it there.",
        )
    await decide_or_vote(
        context,
        handoff_id=handoff_id,
        decision=DecisionInput(outcome="edited", reviewer=body["user"]["id"], final_text=text),
    )
    await ack()


async def handle_reject_submission(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    """Record the rejection with its reason and category."""
    reason, category = reject_reason(view)
    await decide(
        context,
        handoff_id=str(view.get("private_metadata") or ""),
        decision=DecisionInput(
            outcome="rejected", reviewer=body["user"]["id"], reason=reason, category=category
        ),
    )
    await ack()


#: The input under which each modal shows an error that belongs to no particular field.
MAIN_INPUT = {
    CallbackId.HANDOFF_EDIT_SUBMIT.value: BlockId.EDIT_TEXT,
    CallbackId.HANDOFF_REJECT_SUBMIT.value: BlockId.REJECT_REASON,
}
#: ``loc`` of a domain error → the input block that shows it.
LOC_BLOCKS = {
    "final_text": BlockId.EDIT_TEXT,
    "reason": BlockId.REJECT_REASON,
    "category": BlockId.REJECT_CATEGORY,
    **{block.value: block for block in BlockId},
}


def register(app: AsyncApp) -> None:
    """Listen for the two review modals' submissions."""
    app.view(CallbackId.HANDOFF_EDIT_SUBMIT.value)(handle_edit_submission)
    app.view(CallbackId.HANDOFF_REJECT_SUBMIT.value)(handle_reject_submission)
