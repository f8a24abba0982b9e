"""``handrail trace``: a run's story as a timeline a person can read in a terminal.

Everything shown came from an automation or a person, so nothing reaches the terminal
raw: control characters (a newline in a step name, an ANSI or OSC escape) are printed
escaped, as ``\\n`` or ``\\x1b``, and can neither forge a line nor drive the terminal.
Multi-line texts (errors, reasons, edit diffs) keep their line breaks, each line indented
under its step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson

from store.models import Decision, Event, Handoff
from workflows.delivery.deliveries import FailedDelivery
from workflows.durations import format_duration
from workflows.ledger.story import RunStory

SHORT = 160

#: What a terminal acts on instead of showing: C0 and C1 controls, DEL, the line and
#: paragraph separators, and the bidirectional controls that reorder the text after them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(value: object) -> str:
    """``value`` as one line shown as written: every control character escaped."""
    return _CONTROL.sub(_escaped, str(value))


def text_lines(text: str) -> list[str]:
    """Multi-line text as its lines; other control characters (``\\r`` too) are escaped."""
    return [one_line(line) for line in text.replace("\r\n", "\n").rstrip("\n").split("\n")]


def abbreviate(value: Any, limit: int = SHORT) -> str:
    """One line of at most ``limit`` characters; JSON for structures."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = one_line(" ".join(text.split()))
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _ms(value: float | None) -> str:
    return format_duration(timedelta(milliseconds=value)) if value is not None else "—"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{one_line(kind)}: {n}" for kind, n in sorted(counts.items()))


def render_trace(story: RunStory) -> str:
    run = story.run
    lines = [
        f"Run {one_line(run.id)}",
        f"  workflow        {one_line(run.workflow)}",
        f"  status          {one_line(run.status)}",
        f"  started         {run.started_at:%Y-%m-%d %H:%M:%S} UTC",
        f"  ended           {f'{run.ended_at:%Y-%m-%d %H:%M:%S} UTC' if run.ended_at else '—'}",
        f"  duration        {_ms(story.duration_ms())}",
        f"  prompt version  {one_line(run.prompt_version or '—')}",
        f"  model           {one_line(run.model or '—')}",
        f"  input source    {one_line(run.input_source or '—')}",
    ]
    totals = story.redaction_totals()
    if totals:
        lines.append(f"  redacted        {_counts(totals)}")
    lines.append("")
    lines.append(f"Steps ({len(story.events)})" if story.events else "Steps: none recorded")
    # The widest step number sets the column, so every step's details stay under it.
    last = max((event.seq for event in story.events), default=0)
    width = len(str(max(last, len(story.events))))
    for event in story.events:
        lines.extend(_render_event(event, width))
    decisions = {decision.handoff_id: decision for decision in story.decisions}
    if story.handoffs:
        lines.append("")
        lines.append(f"Handoffs ({len(story.handoffs)})")
        for handoff in story.handoffs:
            lines.extend(_render_handoff(handoff, decisions.get(handoff.id)))
    if story.failed_deliveries:
        lines.append("")
        lines.append(f"Failed deliveries ({len(story.failed_deliveries)})")
        for delivery in story.failed_deliveries:
            lines.extend(_render_failed_delivery(delivery))
    return "\n".join(lines) + "\n"


def _render_event(event: Event, width: int) -> list[str]:
    status = f" [{one_line(event.status)}]" if event.status else ""
    head = (
        f"{event.seq:>{width}}. {one_line(event.type):<7} {one_line(event.name)}{status}"
        f"  {_ms(event.duration_ms)}"
    )
    lines = [head]
    indent = " " * (width + 4)
    details = []
    if event.model:
        details.append(f"model {one_line(event.model)}")
    if event.prompt_version:
        details.append(f"prompt {one_line(event.prompt_version)}")
    if event.tokens_in is not None or event.tokens_out is not None:
        details.append(f"tokens {event.tokens_in or 0} in / {event.tokens_out or 0} out")
    if event.settings:
        details.append(f"settings {abbreviate(event.settings, 80)}")
    if details:
        lines.append(indent + " · ".join(details))
    if event.input is not None:
        lines.append(f"{indent}in:  {abbreviate(event.input)}")
    if event.output is not None:
        lines.append(f"{indent}out: {abbreviate(event.output)}")
    if event.error:
        lines.append(f"{indent}error:")
        lines.extend(f"{indent}  {line}" for line in text_lines(event.error))
    if event.redactions:
        lines.append(f"{indent}redacted: {_counts(event.redactions)}")
    return lines


def _render_handoff(handoff: Handoff, decision: Decision | None) -> list[str]:
    lines = [
        f"  {one_line(handoff.id)}  {one_line(handoff.kind)}  {one_line(handoff.status)}  "
        f"{abbreviate(handoff.summary, 80)}"
    ]
    if decision is not None:
        lines.append(
            f"    {one_line(decision.outcome)} by "
            f"{one_line(' and '.join(decision.approvers or [decision.reviewer]))} at "
            f"{decision.decided_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(review took {format_duration(timedelta(milliseconds=decision.latency_ms))})"
        )
        if decision.reason:
            category = f" [{one_line(decision.category)}]" if decision.category else ""
            first, *more = text_lines(decision.reason)
            lines.append(f"    reason{category}: {first}")
            lines.extend(f"      {line}" for line in more)
        if decision.diff:
            lines.append("    edit:")
            lines.extend(f"      {line}" for line in text_lines(decision.diff))
        if decision.acted_at is not None:
            lines.append(
                f"    acted at {decision.acted_at:%Y-%m-%d %H:%M:%S} UTC with the approved text "
                f"(approval digest {one_line(decision.approval_digest or '')[:12]}…)"
            )
    return lines


def _render_failed_delivery(delivery: FailedDelivery) -> list[str]:
    what = f" {one_line(delivery.message)}" if delivery.message else ""
    tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    return [
        f"  {one_line(delivery.kind)}{what} to {one_line(delivery.target)}"
        f"  (handoff {one_line(delivery.handoff_id)})",
        f"    failed {delivery.failed_at:%Y-%m-%d %H:%M:%S} UTC after {tries}; "
        f"queued {delivery.queued_at:%Y-%m-%d %H:%M:%S} UTC",
        *(f"    {line}" for line in text_lines(delivery.error)),
    ]
