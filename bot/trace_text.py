"""``handrail trace``: a run's story as a timeline a person can read in a terminal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from store.models import Decision, Event, Handoff
from workflows.durations import format_duration
from workflows.story import RunStory

SHORT = 160


def abbreviate(value: Any, limit: int = SHORT) -> str:
    """One line of at most ``limit`` characters; JSON for structures."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _ms(value: float | None) -> str:
    return format_duration(timedelta(milliseconds=value)) if value is not None else "—"


def render_trace(story: RunStory) -> str:
    run = story.run
    lines = [
        f"Run {run.id}",
        f"  workflow        {run.workflow}",
        f"  status          {run.status}",
        f"  started         {run.started_at:%Y-%m-%d %H:%M:%S} UTC",
        f"  ended           {f'{run.ended_at:%Y-%m-%d %H:%M:%S} UTC' if run.ended_at else '—'}",
        f"  duration        {_ms(story.duration_ms())}",
        f"  prompt version  {run.prompt_version or '—'}",
        f"  model           {run.model or '—'}",
        f"  input source    {run.input_source or '—'}",
    ]
    totals = story.redaction_totals()
    if totals:
        lines.append(
            "  redacted        " + ", ".join(f"{kind}: {n}" for kind, n in sorted(totals.items()))
        )
    lines.append("")
    lines.append(f"Steps ({len(story.events)})" if story.events else "Steps: none recorded")
    width = len(str(len(story.events)))
    for event in story.events:
        lines.extend(_render_event(event, width))
    decisions = {decision.handoff_id: decision for decision in story.decisions}
    if story.handoffs:
        lines.append("")
        lines.append(f"Handoffs ({len(story.handoffs)})")
        for handoff in story.handoffs:
            lines.extend(_render_handoff(handoff, decisions.get(handoff.id)))
    return "\n".join(lines) + "\n"


def _render_event(event: Event, width: int) -> list[str]:
    status = f" [{event.status}]" if event.status else ""
    head = f"{event.seq:>{width}}. {event.type:<7} {event.name}{status}  {_ms(event.duration_ms)}"
    lines = [head]
    indent = " " * (width + 4)
    details = []
    if event.model:
        details.append(f"model {event.model}")
    if event.prompt_version:
        details.append(f"prompt {event.prompt_version}")
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
        lines.extend(f"{indent}  {line}" for line in event.error.splitlines())
    if event.redactions:
        counts = ", ".join(f"{kind}: {n}" for kind, n in sorted(event.redactions.items()))
        lines.append(f"{indent}redacted: {counts}")
    return lines


def _render_handoff(handoff: Handoff, decision: Decision | None) -> list[str]:
    lines = [f"  {handoff.id}  {handoff.kind}  {handoff.status}  {abbreviate(handoff.summary, 80)}"]
    if decision is not None:
        lines.append(
            f"    {decision.outcome} by {decision.reviewer} at "
            f"{decision.decided_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(review took {format_duration(timedelta(milliseconds=decision.latency_ms))})"
        )
        if decision.reason:
            category = f" [{decision.category}]" if decision.category else ""
            lines.append(f"    reason{category}: {decision.reason}")
        if decision.diff:
            lines.append("    edit:")
            lines.extend(f"      {line}" for line in decision.diff.splitlines())
    return lines
