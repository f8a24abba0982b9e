"""The App Home tab: the person's pending reviews and the workflows they are on call for.

A pure builder over ``handlers.home.HomeView``. Each pending review carries the same
buttons as its review message (``decision_buttons``), so a click here goes through the
same handlers, checks and claim. A Home view holds at most 100 blocks: two per review and
a small frame, so ``REVIEWS_SHOWN`` reviews always fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from handlers.blocks._parts import clock, context, inline, kind_label, section
from handlers.blocks.handoff import decision_buttons
from workflows.ledger.views import HandoffView

#: Two blocks per review; 40 of them and the frame stay well under Slack's 100.
REVIEWS_SHOWN = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class OnCallLine:
    """A workflow the person is on call for, and where its alerts go."""

    workflow: str
    alert_channel: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeView:
    """What the Home tab shows one person."""

    reviews: Sequence[HandoffView]
    """Pending, unclaimed handoffs of the workflows they review, oldest first."""
    more: bool
    """More are waiting than ``reviews`` holds."""
    oncall: Sequence[OnCallLine]
    note: str | None = None
    """A line on what just happened (a refused click), already escaped mrkdwn."""


def home_view(view: HomeView) -> dict[str, Any]:
    """The ``home`` view for ``views.publish``, validated by slack_sdk."""
    blocks: list[Block] = []
    if view.note:
        blocks.append(section(f":warning: {view.note}"))
    blocks.append(HeaderBlock(text="Your pending reviews"))
    if not view.reviews:
        blocks.append(section("Nothing is waiting for you. New reviews appear here, oldest first."))
    for review in view.reviews[:REVIEWS_SHOWN]:
        blocks.append(section(_review_text(review)))
        blocks.append(decision_buttons(review))
    if view.more or len(view.reviews) > REVIEWS_SHOWN:
        blocks.append(
            context(f"Only the oldest {REVIEWS_SHOWN} are shown; decide them to see the rest.")
        )
    blocks.append(DividerBlock())
    blocks.append(HeaderBlock(text="On call"))
    blocks.append(section(_oncall_text(view.oncall)))
    blocks.append(context("`/handrail help` lists every command."))
    return View(type="home", blocks=blocks).to_dict()


def _review_text(review: HandoffView) -> str:
    head = f"*{inline(kind_label(review.kind), 60)}* · `{inline(review.workflow, 64)}`"
    lines = [
        head + f" · opened {clock(review.created_at)}",
        inline(review.summary, 600) or "_(no summary)_",
    ]
    if review.paused:
        lines.append("_Paused: a decision is recorded but held until the workflow resumes._")
    lines.append(f"Run `{inline(review.run_id, 130)}` · handoff `{inline(review.id, 40)}`")
    return "\n".join(lines)


def _oncall_text(lines: Sequence[OnCallLine]) -> str:
    if not lines:
        return "You are not on call for any workflow."
    items = []
    for line in lines:
        where = f", alerts in <#{line.alert_channel}>" if line.alert_channel else ""
        items.append(f"• `{inline(line.workflow, 64)}`{where}")
    return "You are on call for:\n" + "\n".join(items)
