"""Pure builders from ``workflows.ledger.views`` to Slack Block Kit.

Built with ``slack_sdk.models`` so Slack's limits are checked on ``to_dict()``; every
untrusted string is escaped and cut before it goes in, so long or hostile model output can
neither break a limit nor mention anyone. No I/O here: callers post the results.
"""

from __future__ import annotations

from handlers.blocks._parts import PLAIN_TEXT_INPUT_MAX, REJECT_CATEGORIES, Message, mention
from handlers.blocks.handoff import (
    decision_thread_reply,
    draft_part_message,
    handoff_message,
    outcome_line,
)
from handlers.blocks.modals import REJECT_REASON_MAX, edit_modal, reject_modal
from handlers.escape import escape_mrkdwn

__all__ = [
    "PLAIN_TEXT_INPUT_MAX",
    "REJECT_CATEGORIES",
    "REJECT_REASON_MAX",
    "Message",
    "decision_thread_reply",
    "draft_part_message",
    "edit_modal",
    "escape_mrkdwn",
    "handoff_message",
    "mention",
    "outcome_line",
    "reject_modal",
]
