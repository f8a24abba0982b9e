"""The Edit and Reject modals a reviewer opens from a handoff message.

Both carry the handoff ID in ``private_metadata`` (Slack hands it back on submit) and name
their inputs with ``handlers.ids``, so the submit handler reads
``view["state"]["values"][BlockId.X][InputId.X]``.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.blocks._parts import (
    PLAIN_TEXT_INPUT_MAX,
    REJECT_CATEGORIES,
    context,
    inline,
    kind_label,
    mrkdwn,
)
from handlers.ids import BlockId, CallbackId, InputId
from workflows.ledger.views import HandoffView

#: A reject reason is one or two lines, not an essay: the weekly digest lists them.
REJECT_REASON_MAX = 500


def edit_modal(view: HandoffView) -> dict[str, Any]:
    """A modal with the draft in a text box, to edit and approve in one step.

    Slack caps a ``plain_text_input`` at 3000 characters, initial value included. A longer
    draft cannot be edited whole in Slack, and saving a box that holds only its start would
    approve a cut draft; so for such a draft (an Edit button on a message posted before it
    was withheld there) the modal explains why and has nothing to submit.
    """
    draft = view.draft or ""
    if view.draft_too_long_to_edit:
        return _too_long_modal(view)
    blocks: list[Block] = [_about(view)]
    blocks.append(
        InputBlock(
            block_id=BlockId.EDIT_TEXT.value,
            label="Draft",
            element=PlainTextInputElement(
                action_id=InputId.EDIT_TEXT.value,
                multiline=True,
                initial_value=draft or None,
                max_length=PLAIN_TEXT_INPUT_MAX,
                focus_on_load=True,
            ),
            hint="What you save here is what goes out; the change is recorded as a diff.",
        )
    )
    return _modal(
        view,
        callback_id=CallbackId.HANDOFF_EDIT_SUBMIT,
        title="Edit draft",
        submit="Save and approve",
        blocks=blocks,
    )


def _too_long_modal(view: HandoffView) -> dict[str, Any]:
    """Why a draft over a text box's limit cannot be edited in Slack, and what to do."""
    length = len(view.draft or "")
    text = (
        f":warning: *This draft is too long to edit in Slack.* It has {length:,} characters "
        f"and a Slack text box holds {PLAIN_TEXT_INPUT_MAX:,}, so saving it here would cut "
        "it.\nRead it whole in the handoff message's thread, then *Approve* or *Reject* it "
        "on the message. To change it, reject it with what to fix."
    )
    modal = View(
        type="modal",
        callback_id=CallbackId.HANDOFF_EDIT_SUBMIT.value,
        private_metadata=view.id,
        title="Edit draft",
        close="Close",
        blocks=[_about(view), SectionBlock(text=mrkdwn(text))],
    )
    result: dict[str, Any] = modal.to_dict()
    return result


def reject_modal(view: HandoffView) -> dict[str, Any]:
    """A modal asking why the case is rejected (required) and in which category (optional)."""
    reason = InputBlock(
        block_id=BlockId.REJECT_REASON.value,
        label="Why is it wrong?",
        element=PlainTextInputElement(
            action_id=InputId.REJECT_REASON.value,
            multiline=True,
            max_length=REJECT_REASON_MAX,
            placeholder="One or two lines, e.g. quotes last year's refund policy",
            focus_on_load=True,
        ),
        hint="The workflow's owner reads this to fix the automation.",
        optional=False,
    )
    category = InputBlock(
        block_id=BlockId.REJECT_CATEGORY.value,
        label="Category",
        element=StaticSelectElement(
            action_id=InputId.REJECT_CATEGORY.value,
            placeholder="Pick one",
            options=[Option(value=value, text=label) for value, label in REJECT_CATEGORIES.items()],
        ),
        optional=True,
    )
    return _modal(
        view,
        callback_id=CallbackId.HANDOFF_REJECT_SUBMIT,
        title="Reject",
        submit="Reject",
        blocks=[_about(view), reason, category],
    )


def _about(view: HandoffView) -> Block:
    """One grey line naming the case, so the reviewer knows which handoff the modal is for."""
    workflow = inline(view.workflow, 100)
    about = f"{kind_label(view.kind)} · *{workflow}* · run `{inline(view.run_id, 100)}`"
    if view.summary.strip():
        about += "\n" + inline(view.summary, 300)
    return context(about)


def _modal(
    view: HandoffView,
    *,
    callback_id: CallbackId,
    title: str,
    submit: str,
    blocks: list[Block],
) -> dict[str, Any]:
    """Build and validate the modal; ``private_metadata`` carries the handoff ID."""
    modal = View(
        type="modal",
        callback_id=callback_id.value,
        private_metadata=view.id,
        title=title,
        submit=submit,
        close="Cancel",
        blocks=blocks,
    )
    result: dict[str, Any] = modal.to_dict()
    return result
