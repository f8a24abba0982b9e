"""The ``/trace`` answer: a run's story as one private message that Slack always accepts.

Steps are packed several to a section (each section under Slack's 3,000 characters, the
message under its 50 blocks and a character budget that keeps it readable). A run that does
not fit shows its first and last steps, says which are hidden, lists every gate verdict
among them, and offers "Show more", which pages through the middle. Handoffs and decisions
(who, when, outcome, reason, edit diff) always come last, then any delivery about them that
failed. Pure: views in, Block Kit out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
)

from handlers.blocks._packing import PACK_ROOM, Packer, pack
from handlers.blocks._parts import (
    HEADER_TEXT_MAX,
    MESSAGE_BLOCKS_MAX,
    Message,
    build_message,
    clock,
    code_section,
    context,
    duration,
    inline,
    mention,
    plain,
    section,
)
from handlers.blocks.quorum import people
from handlers.blocks.trace_handoffs import failed_delivery_blocks, handoff_blocks
from handlers.escape import cut_escaped
from handlers.ids import ActionId
from workflows.ledger.trace import StepView, TracePage, TraceView

#: Characters of step text in one message: enough for a story, short enough to read.
STEP_CHARS = 8_000
#: Characters of one step's error shown in Slack; the whole text is in ``handrail trace``.
ERROR_CHARS = 1_500
INLINE_CHARS = 240
GATE_BLOCKS = 4


def trace_message(view: TraceView) -> Message:
    """The first answer to ``/trace``: header, steps (all, or first and last), handoffs."""
    top: list[Block] = [_header(f"Trace · {view.run_id}"), section(_facts(view))]
    if note := _counts_note(view):
        top.append(context(note))
    if view.error and view.error.strip():
        top.extend(code_section("Run error", view.error, what="error", whole_note=_where(view)))
    bottom = [*handoff_blocks(view.handoffs), *failed_delivery_blocks(view.failed_deliveries)]
    steps = [*view.head, *view.tail]
    texts = [_step_text(step, view.run_id) for step in steps]
    room = MESSAGE_BLOCKS_MAX - len(top) - len(bottom) - 2  # two dividers
    if not view.tail and _fits(texts, room):
        middle: list[Block] = [section(text) for text in pack(texts)]
    else:
        middle = _first_and_last(view, steps, texts, room)
    # The Show more button (last of ``middle`` when there is one) goes under everything.
    show_more = middle.pop() if middle and isinstance(middle[-1], ActionsBlock) else None
    blocks = [*top, DividerBlock(), *middle, DividerBlock(), *bottom]
    if show_more is not None:
        blocks.append(show_more)
    fallback = f"Trace of {inline(view.run_id, 140)} ({inline(view.workflow, 64)}, {view.status})"
    return build_message(fallback, blocks)


def trace_page_message(page: TracePage) -> Message:
    """A "Show more" page: as many steps from the requested one as fit, and the next button."""
    texts = [_step_text(step, page.run_id) for step in page.steps]
    shown = _fitting_prefix(texts, MESSAGE_BLOCKS_MAX - 3)
    steps = page.steps[:shown]
    if steps:
        span = f"steps {steps[0].seq} to {steps[-1].seq} of {page.step_count}"
    else:
        span = f"no steps from there ({page.step_count} in all)"
    blocks: list[Block] = [_header(f"Trace · {page.run_id} · {span}")]
    blocks.extend(section(text) for text in pack(texts[:shown]))
    if shown < len(page.steps):
        blocks.append(_show_more(page.run_id, page.steps[shown].seq))
    elif page.more and steps:
        blocks.append(_show_more(page.run_id, steps[-1].seq + 1))
    else:
        blocks.append(context("End of the run."))
    return build_message(f"Trace of {inline(page.run_id, 140)}, {span}", blocks)


def step_line(step: StepView) -> str:
    """The first line of a step: position, type, name and what happened, in mrkdwn."""
    head = f"`{step.seq}` *{inline(step.type, 20)}* `{inline(step.name, 120)}`"
    if step.type == "gate":
        verdict = f" → *{inline(step.status or '?', 32)}*"
        return head + verdict + (f" — {inline(step.detail, 300)}" if step.detail else "")
    if step.type == "decision":
        who = f" by {mention(step.actor)}" if step.actor else ""
        if len(step.approvers) > 1:
            who = f" by {people(step.approvers)}"
        held = " (held while paused)" if step.status == "held" else ""
        return head + who + held + (f" — {inline(step.detail, 300)}" if step.detail else "")
    if step.type == "handoff":
        state = f" · {inline(step.status, 32)}" if step.status else ""
        return head + state + (f" — {inline(step.detail, 300)}" if step.detail else "")
    facts = [inline(step.status, 32)] if step.status else []
    if step.duration_ms is not None:
        facts.append(duration(timedelta(milliseconds=step.duration_ms)))
    if step.model:
        facts.append(inline(step.model, 60))
    if step.tokens_in is not None or step.tokens_out is not None:
        facts.append(f"{step.tokens_in or 0}→{step.tokens_out or 0} tokens")
    return head + "".join(f" · {fact}" for fact in facts)


def _step_text(step: StepView, run_id: str) -> str:
    """A step in mrkdwn, always under one section's limit."""
    lines = [step_line(step)]
    if step.input:
        lines.append(f"      _in_  {inline(step.input, INLINE_CHARS)}")
    if step.output:
        lines.append(f"      _out_  {inline(step.output, INLINE_CHARS)}")
    if step.error and step.error.strip():
        cut = cut_escaped(step.error, ERROR_CHARS, code=True)
        total = max(step.error_chars or 0, cut.total)
        lines.append(f"```\n{cut.text}\n```")
        if cut.shown < total:
            lines.append(
                f"_error cut at {cut.shown:,} of {total:,} characters; "
                f"the whole text: `handrail trace {inline(run_id, 130)}`_"
            )
    return "\n".join(lines)[:PACK_ROOM]


def _fits(texts: Sequence[str], blocks: int) -> bool:
    return sum(map(len, texts)) <= STEP_CHARS and len(pack(texts)) <= blocks


def _fitting_prefix(texts: Sequence[str], blocks: int) -> int:
    """How many texts from the start fit (at least one: a step always fits a section)."""
    count = 1
    while count < len(texts) and _fits(texts[: count + 1], blocks):
        count += 1
    return min(count, len(texts))


def _first_and_last(
    view: TraceView, steps: Sequence[StepView], texts: Sequence[str], room: int
) -> list[Block]:
    """First and last steps that fit, a note on the hidden ones, their gates, Show more."""
    room -= GATE_BLOCKS + 2  # the hidden-steps note and the Show more button
    first, last = _split(view, texts, room)
    while last and len(pack(texts[:first])) + len(pack(texts[len(texts) - last :])) > room:
        last -= 1  # the estimate packed the last steps backwards; the blocks are packed forwards
    shown_head, shown_tail = steps[:first], steps[len(steps) - last :]
    first_hidden = shown_head[-1].seq + 1 if shown_head else 1
    last_hidden = shown_tail[0].seq - 1 if shown_tail else view.step_count
    count = max(last_hidden - first_hidden + 1, 0)
    loaded_hidden = steps[first : len(steps) - last]
    gates = sorted(
        {s.seq: s for s in [*loaded_hidden, *view.hidden_gates] if s.type == "gate"}.values(),
        key=lambda s: s.seq,
    )
    blocks: list[Block] = [section(text) for text in pack(texts[:first])]
    blocks.append(
        context(
            f"… {count:,} step{'s' if count != 1 else ''} hidden "
            f"(steps {first_hidden} to {last_hidden} of {view.step_count:,}); "
            "*Show more* lists them."
        )
    )
    blocks.extend(_gate_sections(gates, GATE_BLOCKS))
    blocks.extend(section(text) for text in pack(texts[len(texts) - last :]))
    blocks.append(_show_more(view.run_id, first_hidden))
    return blocks


def _split(view: TraceView, texts: Sequence[str], room: int) -> tuple[int, int]:
    """How many first and last steps to show, taken in turns from each end while they fit.

    When the domain already left out a middle (``view.tail``), the first steps come only
    from ``view.head`` and the last only from ``view.tail``, so no gap is ever hidden.
    Packing is tracked incrementally: each end is a growing run of sections.
    """
    total = len(texts)
    max_first = len(view.head) if view.tail else total
    max_last = len(view.tail) if view.tail else total
    keep_hidden = 0 if view.tail else 1
    ends = {True: Packer(), False: Packer()}  # True: the first steps, False: the last
    counts = {True: 0, False: 0}
    chars = 0
    grew = True
    while grew:
        grew = False
        for front in (True, False):
            if counts[front] + 1 > (max_first if front else max_last):
                continue
            if total - counts[True] - counts[False] - 1 < keep_hidden:
                continue
            text = texts[counts[True]] if front else texts[total - counts[False] - 1]
            if chars + len(text) > STEP_CHARS:
                continue
            other = ends[not front].sections
            if ends[front].sections_with(text) + other > room:
                continue
            ends[front].add(text)
            counts[front] += 1
            chars += len(text)
            grew = True
    return counts[True], counts[False]


def _gate_sections(gates: Sequence[StepView], room: int) -> list[Block]:
    """Every gate verdict among the hidden steps, so no verdict is ever out of sight."""
    if not gates:
        return []
    lines = ["*Gate verdicts in the hidden steps*", *(step_line(g)[:600] for g in gates)]
    sections = pack(lines)
    if len(sections) > room:
        shown = sum(s.count("\n") + 1 for s in sections[: room - 1]) - 1
        sections = [*sections[: room - 1], f"… and {len(gates) - shown} more: *Show more*"]
    return [section(text) for text in sections]


def _facts(view: TraceView) -> str:
    ended = clock(view.ended_at, since=view.started_at) if view.ended_at else "—"
    took = duration(timedelta(milliseconds=view.duration_ms)) if view.duration_ms else "—"
    pairs = [
        ("Workflow", f"`{inline(view.workflow, 64)}`"),
        ("Status", f"*{inline(view.status, 32)}*"),
        ("Started", clock(view.started_at)),
        ("Ended", ended),
        ("Duration", took),
        ("Prompt version", inline(view.prompt_version or "—", 200)),
        ("Model", inline(view.model or "—", 200)),
        ("Input source", inline(view.input_source or "—", 500)),
    ]
    return "\n".join(f"*{name}:* {value}" for name, value in pairs)


def _counts_note(view: TraceView) -> str:
    note = f"{view.step_count:,} step{'s' if view.step_count != 1 else ''}"
    if view.redactions:
        counts = ", ".join(f"{kind}: {n}" for kind, n in sorted(view.redactions.items()))
        scope = "" if view.redactions_complete else " in the steps read"
        note += f" · redacted before storage{scope}: {inline(counts, 300)}"
    return note


def _where(view: TraceView) -> str:
    return f"the whole text: handrail trace {inline(view.run_id, 130)}"


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, HEADER_TEXT_MAX))


def _show_more(run_id: str, from_seq: int) -> ActionsBlock:
    value = f"{run_id} {from_seq}"
    button = ButtonElement(text="Show more", action_id=ActionId.TRACE_MORE.value, value=value)
    return ActionsBlock(elements=[button])
