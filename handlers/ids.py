"""Every id Slack sends back to us, defined once.

Builders put these on buttons, modals and inputs; handlers register on the same members, so
a typo is an ``AttributeError`` at import rather than a click that nothing answers. Values
are kebab-case and never change once shipped: messages already posted in Slack carry them.
"""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """``action_id`` of every button, one per thing a click can do."""

    HANDOFF_APPROVE = "handoff-approve"
    HANDOFF_EDIT = "handoff-edit"
    HANDOFF_REJECT = "handoff-reject"
    HANDOFF_TAKE_OVER = "handoff-take-over"
    HANDOFF_RETRY = "handoff-retry"
    TRACE_OPEN = "trace-open"
    TRACE_MORE = "trace-more"
    ALERT_ACKNOWLEDGE = "alert-acknowledge"
    ALERT_SNOOZE = "alert-snooze"
    ALERT_RESOLVE = "alert-resolve"
    ALERT_PAUSE_WORKFLOW = "alert-pause-workflow"
    PARKED_RESUME = "parked-resume"
    PARKED_TAKE_OVER = "parked-take-over"
    BATCH_APPROVE = "batch-approve"


class CallbackId(StrEnum):
    """``callback_id`` of every modal; its submission comes back as a ``view_submission``."""

    HANDOFF_EDIT_SUBMIT = "handoff-edit-submit"
    HANDOFF_REJECT_SUBMIT = "handoff-reject-submit"


class BlockId(StrEnum):
    """``block_id`` of modal input blocks: the first key in ``view.state.values``."""

    EDIT_TEXT = "edit-text"
    REJECT_REASON = "reject-reason"
    REJECT_CATEGORY = "reject-category"


class InputId(StrEnum):
    """``action_id`` of the element inside each input block: the second key in ``values``.

    Same words as ``BlockId`` so ``values[BlockId.X][InputId.X]`` reads as one thing.
    """

    EDIT_TEXT = "edit-text"
    REJECT_REASON = "reject-reason"
    REJECT_CATEGORY = "reject-category"


class Command(StrEnum):
    """Slash commands; ``manifest.yml`` must list exactly these."""

    TRACE = "/trace"
    PAUSE = "/pause"
    RESUME = "/resume"
    HANDRAIL = "/handrail"
