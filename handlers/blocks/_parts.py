"""Small pieces the handoff messages, thread replies and modals share.

Every string that is not Handrail's own wording goes through ``handlers.escape`` here, and
every piece that holds such a string is cut to Slack's limits before it is built, so that
``to_dict()`` (which validates) can never fail on long model output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from handlers.escape import cut_escaped, escape_mrkdwn
from handlers.ids import ActionId
from workflows.ledger.views import HandoffView
from workflows.policy import PauseState

#: Slack's limits, as slack_sdk validates them (and as the Block Kit reference states).
SECTION_TEXT_MAX = SectionBlock.text_max_length
HEADER_TEXT_MAX = HeaderBlock.text_max_length
BUTTON_VALUE_MAX = ButtonElement.value_max_length
MESSAGE_BLOCKS_MAX = 50
#: A text object in a context block; Slack allows 3000, we keep well under it.
CONTEXT_TEXT_MAX = 2000
#: The notification text: what a phone shows. Short on purpose; the blocks hold the rest.
FALLBACK_TEXT_MAX = 300
#: A plain_text_input holds at most this many characters, initial value included.
PLAIN_TEXT_INPUT_MAX = 3000
#: A pause banner's parts: a reason is at most 1000 characters when stored, escaping may
#: make it longer, and both fit one section with the wording around them.
PAUSE_REASON_CHARS = 2000
PAUSER_CHARS = 200

KIND_LABELS = {
    "draft": "Draft for review",
    "low_confidence": "Low confidence",
    "stop_rule": "Stop rule hit",
    "approval_required": "Approval required",
    "tool_failure": "Tool failure",
    "other": "Needs a person",
}

#: Reject categories: the value stored with the decision, and the label a reviewer sees.
REJECT_CATEGORIES = {
    "wrong_facts": "Wrong facts",
    "wrong_tone": "Wrong tone",
    "policy": "Against policy",
    "incomplete": "Incomplete",
    "other": "Other",
}

_USER_ID = re.compile(r"[UW][A-Z0-9]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A message ready for ``chat.postMessage`` or ``chat.update``.

    ``text`` is the notification and screen-reader fallback; ``blocks`` are validated dicts.
    """

    text: str
    blocks: list[dict[str, Any]]

    def as_kwargs(self) -> dict[str, Any]:
        """The message as keyword arguments for the Web API call."""
        return {"text": self.text, "blocks": self.blocks}


def build_message(text: str, blocks: Sequence[Block]) -> Message:
    """Validate every block (``to_dict`` raises on a broken limit) and bundle the message."""
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        raise ValueError(f"a message holds at most {MESSAGE_BLOCKS_MAX} blocks, not {len(blocks)}")
    return Message(text=text, blocks=[block.to_dict() for block in blocks])


def kind_label(kind: str) -> str:
    """Human name of a handoff kind; an unknown kind reads like ``other``."""
    return KIND_LABELS.get(kind, KIND_LABELS["other"])


def category_label(category: str) -> str:
    """Label of a reject category; an unknown one is shown as written, tidied."""
    return REJECT_CATEGORIES.get(category, category.replace("_", " ").capitalize())


def mrkdwn(text: str) -> MarkdownTextObject:
    """A mrkdwn text object with Slack's automatic parsing off.

    ``verbatim`` stops Slack from turning bare words into links or mentions; our own
    ``<@U…>`` mentions are explicit control sequences and still work.
    """
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str, *, accessory: ButtonElement | None = None) -> SectionBlock:
    """A section of already-escaped mrkdwn."""
    return SectionBlock(text=mrkdwn(text), accessory=accessory)


def context(text: str) -> ContextBlock:
    """A grey context line of already-escaped mrkdwn."""
    return ContextBlock(elements=[mrkdwn(text)])


def inline(text: str, limit: int) -> str:
    """Escape a short untrusted value for use inside a line, cut with an ellipsis."""
    cut = cut_escaped(" ".join(text.split()), limit - 1)
    return cut.text + "…" if cut.is_cut else cut.text


def plain(text: str, limit: int) -> str:
    """Escape for a plain_text object and cut it to ``limit`` with an ellipsis.

    plain_text is never parsed for mentions, but it is escaped all the same so that one
    rule covers every interpolated string.
    """
    return inline(text, limit)


def mention(user_id: str) -> str:
    """Mention a Slack user; anything that is not a user ID is shown escaped instead."""
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id)


def pause_banner(state: PauseState) -> str:
    """The line open handoff and alert messages show while their workflow is paused.

    The only mention is the one built here from the pauser's ID. The reason is escaped on
    its own and never un-escaped: it may be a person's words or an automation's error text
    (an alert's title), and a ``<@U…>`` in it must stay text, not ping someone.
    """
    pauser = state.paused_by
    by = mention(pauser) if _USER_ID.fullmatch(pauser) else inline(pauser, PAUSER_CHARS)
    why = f": {inline(state.reason, PAUSE_REASON_CHARS)}" if state.reason else ""
    return f"Paused by {by}{why}. Decisions are recorded but held until the workflow resumes."


def code_section(title: str, text: str, *, what: str, whole_note: str) -> list[Block]:
    """A titled code block of untrusted text, cut to fit a section, with a note if cut.

    ``what`` names the text in the note ("draft", "error"); ``whole_note`` says where the
    full text can be read.
    """
    head = f"*{title}*\n```\n"
    tail = "\n```"
    cut = cut_escaped(text, SECTION_TEXT_MAX - len(head) - len(tail), code=True)
    blocks: list[Block] = [section(head + cut.text + tail)]
    if cut.is_cut:
        blocks.append(
            context(f"… {what} cut at {cut.shown:,} of {cut.total:,} characters; {whole_note}")
        )
    return blocks


def text_section(title: str | None, text: str) -> list[Block]:
    """A section of untrusted text, optionally titled; nothing when the text is blank."""
    if not text.strip():
        return []
    head = f"*{title}*\n" if title else ""
    cut = cut_escaped(text, SECTION_TEXT_MAX - len(head) - 1)
    return [section(head + cut.text + ("…" if cut.is_cut else ""))]


def trace_button(run_id: str) -> ButtonElement | None:
    """The Trace button for a run; ``None`` if the run ID cannot fit a button value."""
    if not run_id or len(run_id) > BUTTON_VALUE_MAX:
        return None
    return ButtonElement(text="Trace", action_id=ActionId.TRACE_OPEN.value, value=run_id)


def run_line(view: HandoffView) -> SectionBlock:
    """The run ID and when the case was opened, with a Trace button beside them.

    A section rather than a context block, because only a section can carry the button;
    the button stays after a decision since reading a trace decides nothing.
    """
    text = f"Run `{inline(view.run_id, 300)}` · opened {clock(view.created_at)}"
    return section(text, accessory=trace_button(view.run_id))


def as_utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime (as SQLite returns them) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def clock(moment: datetime, *, since: datetime | None = None) -> str:
    """The moment as Slack date formatting, so each person reads it in their own time zone.

    ``<!date^UNIX^{date_short_pretty} {time}|2024-05-01 10:42 UTC>``: Slack shows "today
    10:42" or "May 1st 10:42" in the reader's zone; clients that cannot (notifications,
    older apps) show the fallback after ``|``, in UTC and saying so. When ``moment`` is on
    the same UTC day as ``since`` (a decision beside its handoff's opening) only the time is
    shown, as the date was just read. Only for mrkdwn: plain_text shows the token as typed.
    """
    moment = as_utc(moment)
    unix = int(moment.timestamp())
    if since is not None and as_utc(since).date() == moment.date():
        return f"<!date^{unix}^{{time}}|{moment:%H:%M} UTC>"
    return f"<!date^{unix}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def duration(elapsed: timedelta | int) -> str:
    """A span in the two largest units a person would say: ``4 min 12 s``, ``2 h``.

    An ``int`` is milliseconds, as ``DecisionView.latency_ms`` stores it.
    """
    ms = elapsed if isinstance(elapsed, int) else int(elapsed.total_seconds() * 1000)
    ms = max(ms, 0)
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms // 1000
    steps = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))
    for index, (size, unit) in enumerate(steps):
        if seconds >= size or size == 1:
            big, rest = divmod(seconds, size)
            text = f"{big} {unit}"
            if index + 1 < len(steps):
                small_size, small_unit = steps[index + 1]
                small = rest // small_size
                if small:
                    text += f" {small} {small_unit}"
            return text
    raise AssertionError("unreachable: the last step has size 1")
