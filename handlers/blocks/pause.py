"""Pause and resume: the notice in the alert channel and the private answer to the person.

The notice is rendered from the audit entry of the change (``PauseNoticeView``), the
answer from what the change did (``PauseOutcome``). Actors are Slack users (mentioned) or
``cli:…``/``api:…`` names (shown escaped, never parsed). Pure: no I/O.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from handlers.blocks._parts import Message, build_message, clock, context, inline, mention, section
from workflows.pause.notice import PauseNoticeView
from workflows.pause.state import ALL_WORKFLOWS
from workflows.pause.switch import PauseOutcome
from workflows.policy import PauseState

REASON_CHARS = 1000


def pause_notice_message(view: PauseNoticeView) -> Message:
    """What the alert channel is told when a workflow (or all) is paused or resumed."""
    name = inline(view.label, 80)
    who = mention(view.actor)
    command = "all" if view.target == ALL_WORKFLOWS else inline(view.target, 64)
    if view.paused:
        blocks: list[Block] = [
            section(f":double_vertical_bar: *{name} paused* by {who} at {clock(view.at)}"),
        ]
        if view.reason:
            blocks.append(section(f"*Why:* {inline(view.reason, REASON_CHARS)}"))
        blocks.append(
            context(
                "Gates answer deny, new handoffs are refused and decisions are held: nothing "
                f"goes out until an admin runs `/resume {command}`."
            )
        )
        text = f"{view.label} paused by {view.actor}"
    else:
        blocks = [section(f":arrow_forward: *{name} resumed* by {who} at {clock(view.at)}")]
        blocks.append(context(_released(view.released_decisions, view.released_deliveries)))
        if view.reason:
            blocks.append(context(f"It had been paused because: {inline(view.reason, 500)}"))
        if view.note:
            blocks.append(context(f"Note: {inline(view.note, 500)}"))
        text = f"{view.label} resumed by {view.actor}"
    return build_message(inline(text, 280), blocks)


def _name(outcome: PauseOutcome) -> str:
    return "All workflows" if outcome.target == ALL_WORKFLOWS else inline(outcome.target, 80)


def pause_answer(outcome: PauseOutcome) -> Message:
    """The private answer to ``/pause``: what changed, or who paused it first."""
    name = _name(outcome)
    command = "all" if outcome.target == ALL_WORKFLOWS else inline(outcome.target, 64)
    if outcome.changed:
        told = ", ".join(f"<#{channel}>" for channel in outcome.told)
        verb = "is" if len(outcome.told) == 1 else "are"
        tell = f"{told} {verb} told" if told else "no alert channel is configured to tell"
        text = (
            f":double_vertical_bar: *{name} paused.* Gates now answer deny, new handoffs are "
            f"refused and decisions are held; open handoff messages show a banner and {tell}. "
            f"An admin resumes with `/resume {command}`."
        )
    else:
        since = f" at {clock(outcome.paused_at)}" if outcome.paused_at else ""
        why = f": {inline(outcome.reason, 500)}" if outcome.reason else ""
        by = mention(outcome.paused_by or "someone")
        text = f"{name} was already paused by {by}{since}{why}. Nothing changed."
    return build_message(_plain_fallback(outcome, "paused"), [section(text)])


def resume_answer(outcome: PauseOutcome) -> Message:
    """The private answer to ``/resume``: what was released, and any pause still in force."""
    name = _name(outcome)
    blocks: list[Block] = []
    if outcome.changed:
        released = _released(outcome.released_decisions, outcome.released_deliveries)
        blocks.append(section(f":arrow_forward: *{name} resumed.* {released}"))
    else:
        blocks.append(section(f"{name} has no pause of its own. Nothing changed."))
    if outcome.still_paused is not None:
        blocks.append(section(":warning: " + _still_paused(outcome.still_paused)))
    return build_message(_plain_fallback(outcome, "resumed"), blocks)


def _still_paused(state: PauseState) -> str:
    why = f": {inline(state.reason, 500)}" if state.reason else ""
    return (
        f"It is still stopped: all workflows are paused by {mention(state.paused_by)}{why}. "
        "Held deliveries stay held until `/resume all`."
    )


def _released(decisions: int, deliveries: int) -> str:
    if not decisions and not deliveries:
        return "Nothing was held."
    return (
        f"Released {decisions} held decision{'s' if decisions != 1 else ''} and "
        f"{deliveries} held deliver{'ies' if deliveries != 1 else 'y'}, oldest first."
    )


def _plain_fallback(outcome: PauseOutcome, verb: str) -> str:
    text = f"{outcome.label} {verb}" if outcome.changed else f"{outcome.label}: nothing changed"
    return inline(text, 200)
