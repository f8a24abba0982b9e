"""The handoffs-and-decisions part of a trace: who decided what, when, why, and the edit.

Every handoff gets a section (and its edit diff, if any) up to a block budget; the rest are
listed one line each, so a run with many handoffs still makes a valid message. Deliveries
about them that failed (a post Slack refused, a webhook that gave up) follow in one
section, each with the error as recorded. Pure.
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
    section,
)
from handlers.blocks.quorum import deciders
from workflows.delivery.deliveries import FailedDelivery
from workflows.ledger.trace import HandoffStory

HANDOFF_BLOCKS = 12
#: Characters of one failed delivery's error; the whole text is in ``handrail trace``.
DELIVERY_ERROR_CHARS = 500


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
    line = f"*{decision.outcome.replace('_', ' ')}* by {deciders(decision)} at "
    line += clock(decision.decided_at, since=handoff.created_at)
    return line + f" (review took {duration(decision.latency_ms)})"


def failed_delivery_blocks(deliveries: Sequence[FailedDelivery]) -> list[Block]:
    """One section of what never reached Slack or the automation, and why; none if all did."""
    if not deliveries:
        return []
    count = len(deliveries)
    text = f"*{count} failed deliver{'y' if count == 1 else 'ies'}* (given up, not retried)"
    for shown, delivery in enumerate(deliveries):
        item = _delivery_text(delivery)
        if len(text) + len(item) + 100 > PACK_ROOM:
            text += f"\n… and {count - shown} more: `handrail trace` lists them all"
            break
        text += "\n" + item
    return [section(text)]


def _delivery_text(delivery: FailedDelivery) -> str:
    what = f" {inline(delivery.message, 40)}" if delivery.message else ""
    tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    return (
        f"• `{inline(delivery.kind, 20)}`{what} to `{inline(delivery.target, 200)}` "
        f"for `{inline(delivery.handoff_id, 40)}` · failed {clock(delivery.failed_at)} "
        f"after {tries}\n      {inline(delivery.error, DELIVERY_ERROR_CHARS)}"
    )
