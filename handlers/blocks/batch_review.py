"""The batch review message: similar pending cases and one Approve all button."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject, HeaderBlock

from handlers.blocks._parts import Message, build_message, context, inline, section
from handlers.blocks.quorum import quorum_line
from handlers.ids import ActionId
from workflows.ledger.views import HandoffView
from workflows.review.batch import Batch

_SUMMARY_MAX = 300
_DRAFT_MAX = 600


def batch_review_message(
    batch: Batch, cases: Sequence[HandoffView], *, note: str | None = None
) -> Message:
    """Each case (summary, draft, quorum) and, if any, Approve all behind a confirmation."""
    title = f"Pending {batch.action} cases · {batch.workflow}"
    blocks: list[Block] = [HeaderBlock(text=inline(title, 150))]
    if note:
        blocks.append(section(note))
    if not cases:
        blocks.append(section("No pending cases of this action are waiting."))
        return build_message(title, blocks)
    for case in cases:
        text = f"*{inline(case.summary, _SUMMARY_MAX)}*"
        if case.draft:
            text += f"\n>{inline(case.draft, _DRAFT_MAX)}"
        blocks.append(section(text))
        facts = f"`{inline(case.id, 40)}`"
        if case.quorum is not None:
            facts += " · " + quorum_line(case.quorum)
        blocks.append(context(facts))
    count = len(cases)
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=f"Approve all {count}",
                    action_id=ActionId.BATCH_APPROVE.value,
                    value=batch.to_value(),
                    style="primary",
                    confirm=ConfirmObject(
                        title="Approve them all?",
                        text=f"Each of the {count} cases is approved as shown, one by one.",
                        confirm="Approve all",
                        deny="Cancel",
                    ),
                )
            ]
        )
    )
    return build_message(f"{title}: {count}", blocks)
