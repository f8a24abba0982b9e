"""The handoffs-and-decisions part of a trace: who decided what, when, why, and the edit.

Every handoff gets a section (and its edit diff, if any) up to a block budget; the rest are
listed one line each, so a run with many handoffs still makes a valid message. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from handlers.blocks._packing import PACK_ROOM
from handlers.blocks._parts import (
    category_label,
    clock,
    code_section,
    context,
    duration,
    inline,
    kind_label,
    mention,
    section,
)
from workflows.trace import HandoffStory

HANDOFF_BLOCKS = 12


def handoff_blocks(handoffs: Sequence[HandoffStory]) -> list[Block]:
    """Each handoff and its decision; past the budget, the rest on one line each."""
    if not handoffs:
        return [context("No handoffs: nobody was asked to look at this run.")]
    blocks: list[Block] = []
    rest: list[str] = []
    for handoff in handoffs:
        item: list[Block] = [section(_handoff_text(handoff))]
        decision = handoff.decision
        if decision is not None and decision.diff:
            item.extend(
                code_section("Edit", decision.diff, what="diff", whole_note="see the trace")
            )
        if rest or len(blocks) + len(item) > HANDOFF_BLOCKS - 1:
            rest.append(f"• `{inline(handoff.id, 40)}` {_state(handoff)}")
        else:
            blocks.extend(item)
    if rest:
        text = f"*{len(rest)} more handoffs*"
        for count, line in enumerate(rest):
            if len(text) + len(line) + 100 > PACK_ROOM:
                text += f"\n… and {len(rest) - count} more: `handrail trace` lists them all"
                break
            text += "\n" + line
        blocks.append(section(text))
    return blocks


def _handoff_text(handoff: HandoffStory) -> str:
    head = f"*{kind_label(handoff.kind)}* `{inline(handoff.id, 40)}` · opened "
    head += clock(handoff.created_at)
    lines = [head, inline(handoff.summary, 500), _state(handoff)]
    decision = handoff.decision
    if decision is not None and decision.reason:
        category = ""
        if decision.category:
            category = f" ({inline(category_label(decision.category), 60)})"
        lines.append(f"_Reason{category}:_ {inline(decision.reason, 1000)}")
    return "\n".join(lines)


def _state(handoff: HandoffStory) -> str:
    decision = handoff.decision
    if decision is None:
        return f"*{handoff.status.replace('_', ' ')}*, no decision"
    line = f"*{decision.outcome.replace('_', ' ')}* by {mention(decision.reviewer)} at "
    line += clock(decision.decided_at, since=handoff.created_at)
    return line + f" (review took {duration(decision.latency_ms)})"
