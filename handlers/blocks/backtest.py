"""``/handrail brief WORKFLOW``: the last recorded backtest, as a private message. Pure."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, HeaderBlock

from handlers.blocks._parts import Message, build_message, clock, context, inline, section
from workflows.backtest.recorded import RecordedBacktest

#: Verdict changes listed; the audit entry keeps at most 16 pairs anyway.
CHANGES_SHOWN = 8


def backtest_message(workflow: str, found: RecordedBacktest | None) -> Message:
    """What the backtest found, and whether the brief running now is the one it tested."""
    name = inline(workflow, 64)
    blocks: list[Block] = [HeaderBlock(text="Policy backtest")]
    if found is None:
        blocks.append(
            section(
                f"No backtest of *{name}* was recorded. Run "
                f"`handrail brief diff NEW_WORKFLOWS_YML --workflow {name} --record` "
                "where the proposed brief is; the report is kept in the audit log and shown here."
            )
        )
        return build_message(f"No backtest of {workflow} was recorded", blocks)
    details = found.details
    questions = int(details.get("questions", 0))
    partial = int(details.get("replayed_on_partial_inputs", 0))
    lines = [
        f"*{name}*: {questions} gate question(s) re-decided under a brief in mode "
        f"`{inline(str(details.get('mode', '?')), 16)}`"
        + (f", {partial} on partial inputs" if partial else ""),
        f"Review load: {int(details.get('reviews_before', 0))} → "
        f"{int(details.get('reviews_after', 0))} case(s) for a person in the window",
    ]
    changes = sorted(found.changes.items(), key=lambda item: -item[1])[:CHANGES_SHOWN]
    if changes:
        lines.append(
            "Verdicts that would change: "
            + ", ".join(
                f"{inline(pair.replace('->', ' → '), 40)} {count}" for pair, count in changes
            )
        )
    else:
        lines.append("No verdict would change.")
    blocks.append(section("\n".join(lines)))
    running = (
        "It tested the brief running now."
        if found.tests_running_brief
        else "The brief running now differs from the one it tested."
    )
    promoted = f" A promotion named it at {clock(found.promoted_at)}." if found.promoted_at else ""
    blocks.append(
        context(
            f"Recorded by {inline(found.actor, 64)} at {clock(found.at)} "
            f"(audit entry #{found.sequence}). {running}{promoted}"
        )
    )
    return build_message(f"Policy backtest of {workflow}", blocks)
