"""The handoff message in the review channel, and the decision reply in its thread.

One message per handoff, updated in place: while pending it carries the decision buttons;
once decided or expired it is the same message with an outcome line and no buttons, so a
second click has nothing to press. A shadow case (the workflow runs in shadow mode) says
so in its header, in a banner under it and in its outcome: the buttons stay, because the
reviewers' answers are what the automation is compared with, but nothing acts on them.
Each kind has its own small body builder; the frame (header, pause banner, reasons, run
line, buttons or outcome) is shared.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

from handlers.blocks._parts import (
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    PLAIN_TEXT_INPUT_MAX,
    SECTION_TEXT_MAX,
    Message,
    build_message,
    category_label,
    clock,
    code_section,
    context,
    duration,
    inline,
    kind_label,
    mention,
    pause_banner,
    plain,
    run_line,
    section,
    text_section,
)
from handlers.blocks.quorum import deciders, quorum_line, round_block_id
from handlers.escape import cut_escaped
from handlers.ids import ActionId
from workflows.ledger.views import DRAFT_PARTS_MAX, HandoffView, draft_parts

#: Verb and emoji of each outcome, as the outcome line starts.
_OUTCOMES = {
    "approved": (":white_check_mark:", "Approved"),
    "edited": (":pencil2:", "Edited and approved"),
    "rejected": (":x:", "Rejected"),
    "taken_over": (":raising_hand:", "Taken over"),
    "retry_requested": (":repeat:", "Retry requested"),
}
_REASON_MAX = 500
_SHADOW_LABEL = "Shadow comparison"
_SHADOW_OUTCOME = "shadow comparison: recorded, not acted on"
_ERROR_WHERE = "the full text is in the trace"


def handoff_message(view: HandoffView) -> Message:
    """The message for one handoff in its current state (pending, decided or expired)."""
    body = _BODIES.get(view.kind, _other_body)
    blocks: list[Block] = [_header(view)]
    if view.shadow:
        blocks.append(section(_shadow_banner(view)))
    if view.paused:
        blocks.append(section(":double_vertical_bar: " + pause_banner(view.paused)))
    blocks.append(_reasons(view))
    blocks.extend(body(view))
    blocks.append(run_line(view))
    if view.is_pending:
        if view.quorum is not None:
            blocks.append(context(quorum_line(view.quorum)))
        blocks.append(decision_buttons(view))
    else:
        blocks.append(section(outcome_line(view)))
    return build_message(_fallback(view), blocks)


def decision_thread_reply(view: HandoffView) -> Message:
    """The details of a decision, posted in the thread of the handoff message.

    Outcome, who, when, how long the review took, the reason and category, and for an
    edit the diff: the receipt a later reader needs without opening the database.
    """
    decision = view.decision
    if decision is None:
        line = outcome_line(view)
        return build_message(line, [section(line)])
    icon, verb = _OUTCOMES.get(decision.outcome, (":grey_question:", _humanise(decision.outcome)))
    headline = f"{icon} *{verb}* by {deciders(decision)}"
    review = duration(decision.latency_ms)
    facts = f"Decided at {clock(decision.decided_at)} · review took {review}"
    if decision.category:
        facts += f" · category: {inline(category_label(decision.category), 100)}"
    if view.shadow:
        facts += f" · {_SHADOW_OUTCOME}"
    blocks: list[Block] = [section(headline), context(facts)]
    if decision.reason:
        blocks.extend(text_section("Reason", decision.reason))
    if decision.diff:
        blocks.extend(
            code_section("What changed", decision.diff, what="diff", whole_note=_ERROR_WHERE)
        )
    return build_message(f"{verb} by {mention(decision.reviewer)} after {review}", blocks)


def outcome_line(view: HandoffView) -> str:
    """One line saying how the handoff ended, in mrkdwn: who decided, when, and why."""
    if view.status == "expired":
        after = f" after {duration(view.expired_at - view.created_at)}" if view.expired_at else ""
        return f":hourglass: Expired{after} with no decision — not approved"
    if view.is_pending:
        return ":hourglass_flowing_sand: Waiting for a decision"
    decision = view.decision
    outcome = decision.outcome if decision is not None else view.status
    icon, verb = _OUTCOMES.get(outcome, (":grey_question:", _humanise(outcome)))
    if decision is None:
        return f"{icon} {verb}"
    line = f"{icon} {verb} by {deciders(decision)} at "
    line += clock(decision.decided_at, since=view.created_at)
    if decision.reason and decision.reason.strip():
        line += ": " + inline(decision.reason, _REASON_MAX)
    if view.shadow:
        line += f"\n:ghost: {_SHADOW_OUTCOME}"
    return line


# -- the frame ------------------------------------------------------------------------------


def _header(view: HandoffView) -> HeaderBlock:
    """``<Kind label> · <workflow>``, the workflow cut so the header stays in Slack's limit.

    A shadow case starts with ``Shadow comparison``, so it never reads as a real review.
    """
    label = _label(view)
    room = HEADER_TEXT_MAX - len(label) - len(" · ")
    return HeaderBlock(text=f"{label} · {plain(view.workflow, room)}")


def _label(view: HandoffView) -> str:
    label = kind_label(view.kind)
    return f"{_SHADOW_LABEL} · {label}" if view.shadow else label


def _shadow_banner(view: HandoffView) -> str:
    """What a shadow case is, said before anything else in the message."""
    return (
        ":ghost: *Shadow comparison: the automation will not act on your answer.* "
        f"{inline(view.workflow, 100)} runs in shadow mode: your answer is recorded to compare "
        "with what the automation does on its own, and is never permission to act."
    )


def _reasons(view: HandoffView) -> Block:
    """The "Why it is here" list; each reason is cut so the list always fits one section."""
    reasons = view.reasons()
    room = (SECTION_TEXT_MAX - 40) // max(len(reasons), 1) - len("• \n")
    lines = "\n".join(f"• {inline(reason, room)}" for reason in reasons)
    return section(f"*Why it is here*\n{lines}")


def decision_buttons(view: HandoffView) -> ActionsBlock:
    """The decision buttons of a pending handoff; each carries the handoff ID."""
    if view.kind == "tool_failure":
        elements = [
            _button("I'll handle it", ActionId.HANDOFF_TAKE_OVER, view.id, style="primary"),
            _button("Retry", ActionId.HANDOFF_RETRY, view.id),
        ]
    else:
        elements = [_button("Approve", ActionId.HANDOFF_APPROVE, view.id, style="primary")]
        if view.draft is not None and not view.draft_too_long_to_edit:
            # Edit rewrites the draft; with no draft there is nothing to edit, and a draft
            # longer than a Slack text box could only be saved cut.
            elements.append(_button("Edit", ActionId.HANDOFF_EDIT, view.id))
        elements.append(_button("Reject", ActionId.HANDOFF_REJECT, view.id, style="danger"))
    if view.quorum is not None:
        return ActionsBlock(elements=elements, block_id=round_block_id(view.quorum, view.id))
    return ActionsBlock(elements=elements)


def _button(
    text: str, action_id: ActionId, value: str, *, style: str | None = None
) -> ButtonElement:
    return ButtonElement(text=text, action_id=action_id.value, value=value, style=style)


def _fallback(view: HandoffView) -> str:
    """The notification text: kind, workflow and the start of the summary, plus the outcome."""
    start = f"{_label(view)} · {inline(view.workflow, 100)}"
    if not view.is_pending:
        start = f"{_status_word(view)} — {start}"
    room = FALLBACK_TEXT_MAX - len(start) - 2
    summary = inline(view.summary, room) if view.summary.strip() and room > 10 else ""
    return f"{start}: {summary}" if summary else start


def _status_word(view: HandoffView) -> str:
    outcome = view.decision.outcome if view.decision is not None else view.status
    return _OUTCOMES.get(outcome, ("", _humanise(outcome)))[1]


def _humanise(word: str) -> str:
    return word.replace("_", " ").capitalize()


# -- one body per kind ----------------------------------------------------------------------


def _summary(view: HandoffView) -> list[Block]:
    return text_section(None, view.summary)


def _draft(view: HandoffView) -> list[Block]:
    """The draft in a code block, so it reads exactly as it would go out.

    A draft longer than a Slack text box is posted whole in the thread (see
    ``draft_part_message``) and cannot be edited here; while it is pending the message
    says so, so the missing Edit button is not a surprise.
    """
    if view.draft is None or not view.draft.strip():
        return []
    if not view.draft_too_long_to_edit:
        return code_section("Draft", view.draft, what="draft", whole_note="Edit shows it whole")
    posted = sum(len(part) for part in draft_parts(view.draft)[:DRAFT_PARTS_MAX])
    if posted == len(view.draft):
        where = "the whole draft is in this message's thread"
    else:
        where = f"its first {posted:,} characters are in this message's thread"
    blocks = code_section("Draft", view.draft, what="draft", whole_note=where)
    if view.is_pending:
        blocks.append(context(_too_long_to_edit(len(view.draft))))
    return blocks


def _too_long_to_edit(length: int) -> str:
    return (
        f":warning: Too long to edit in Slack ({length:,} characters; a text box holds "
        f"{PLAIN_TEXT_INPUT_MAX:,}): read it in the thread, then Approve or Reject it as a whole."
    )


def draft_part_message(view: HandoffView, number: int) -> Message:
    """Part ``number`` (from 1) of a long draft, for the handoff message's thread.

    The part is shown in code blocks, as many as its escaped text needs, each within a
    section's limit; joined, the parts read exactly as the draft would go out.
    """
    draft = view.draft or ""
    parts = draft_parts(draft)
    if not 1 <= number <= len(parts):
        raise ValueError(f"handoff {view.id} has no draft part {number} (it has {len(parts)})")
    start = sum(len(part) for part in parts[: number - 1])
    end = start + len(parts[number - 1])
    shown = min(len(parts), DRAFT_PARTS_MAX)
    about = (
        f"Draft, part {number} of {shown} · characters {start + 1:,} to {end:,} of {len(draft):,}"
    )
    blocks: list[Block] = [context(about)]
    rest = parts[number - 1]
    while rest:
        cut = cut_escaped(rest, SECTION_TEXT_MAX - len("```\n\n```"), code=True)
        blocks.append(section(f"```\n{cut.text}\n```"))
        rest = rest[cut.shown :]
    if number == shown and end < len(draft):
        blocks.append(
            context(
                f"The draft goes on for {len(draft) - end:,} more characters, not posted: "
                f"Slack gets at most the first {end:,}."
            )
        )
    label = f"{kind_label(view.kind)} · {inline(view.workflow, 100)}"
    return build_message(f"Draft, part {number} of {shown} — {label}", blocks)


def _draft_body(view: HandoffView) -> list[Block]:
    return [*_summary(view), *_draft(view)]


def _low_confidence_body(view: HandoffView) -> list[Block]:
    return [*_summary(view), *_draft(view)]


def _stop_rule_body(view: HandoffView) -> list[Block]:
    return [*_summary(view), *_draft(view)]


def _approval_required_body(view: HandoffView) -> list[Block]:
    """The action waiting for approval is named above the draft or payload summary."""
    blocks = list(_summary(view))
    if view.action:
        blocks.append(section(f"*Action* `{inline(view.action, 200)}`"))
    return [*blocks, *_draft(view)]


def _tool_failure_body(view: HandoffView) -> list[Block]:
    """The full error (up to Slack's limit) and where the run stopped."""
    blocks = list(_summary(view))
    if view.error and view.error.strip():
        blocks.extend(code_section("Error", view.error, what="error", whole_note=_ERROR_WHERE))
    facts = []
    if view.tool:
        facts.append(f"Tool `{inline(view.tool, 200)}`")
    if view.last_step:
        facts.append(f"last completed step `{inline(view.last_step, 200)}`")
    if facts:
        blocks.append(context(" · ".join(facts)))
    return blocks


def _other_body(view: HandoffView) -> list[Block]:
    return [*_summary(view), *_draft(view)]


_BODIES: dict[str, Callable[[HandoffView], list[Block]]] = {
    "draft": _draft_body,
    "low_confidence": _low_confidence_body,
    "stop_rule": _stop_rule_body,
    "approval_required": _approval_required_body,
    "tool_failure": _tool_failure_body,
    "other": _other_body,
}
