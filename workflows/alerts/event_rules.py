"""The rules that read a workflow's recent events: repeated error, latency, error rate, tokens.

Each reads only its window (``recorded_at >= now - window``, through the workflow/time
index) and returns what it sees as ``Finding``s; none of them knows whether an alert is
open. Titles and samples are raw text from automations: the Slack builders escape them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import alert_windows as windows
from workflows.alerts.findings import (
    ERROR_RATE,
    LATENCY,
    OCCURRENCES_MAX,
    REPEATED_ERROR,
    TOKEN_SPIKE,
    Finding,
)
from workflows.config import WorkflowConfig
from workflows.durations import format_duration
from workflows.fingerprint import fingerprint

#: The error text kept on an alert; the trace holds the full text of every occurrence.
SAMPLE_MAX = 3000
TITLE_MAX = 150


def first_line(text: str, limit: int = TITLE_MAX) -> str:
    """The first non-blank line, cut with an ellipsis: enough to recognise an error."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def error_text(error: str | None, name: str) -> str:
    """What failed, in words: the error text, or the step's name when it sent none."""
    return error if error and error.strip() else f"{name} failed (no error text)"


async def repeated_errors(
    db: AsyncSession, *, workflow: str, policy: WorkflowConfig, now: datetime
) -> list[Finding]:
    """Every error fingerprint seen in the window; five of one open an alert."""
    rule = policy.alerts.repeated_error
    rows = await windows.list_failed_steps(
        db, workflow=workflow, since=now - rule.window, until=now, limit=OCCURRENCES_MAX
    )
    groups: dict[str, list[tuple[datetime, str, str]]] = {}
    for row in rows:  # newest first
        text = error_text(row.error, row.name)
        groups.setdefault(fingerprint(text), []).append((row.recorded_at, row.run_id, text))
    threshold = f"{rule.count} in {format_duration(rule.window)}"
    findings = []
    for key, group in groups.items():
        _, run_id, text = group[0]
        findings.append(
            Finding(
                rule=REPEATED_ERROR,
                fingerprint=key,
                title=first_line(text),
                threshold=threshold,
                occurrences=tuple(sorted(seen for seen, _, _ in group)),
                last_run_id=run_id,
                sample=text[:SAMPLE_MAX],
                fire_at=rule.count,
            )
        )
    return findings


async def slow_calls(
    db: AsyncSession, *, workflow: str, policy: WorkflowConfig, now: datetime
) -> list[Finding]:
    """The last K model or tool calls in the window all took longer than T."""
    rule = policy.alerts.latency
    rows = await windows.list_latest_calls(
        db, workflow=workflow, since=now - rule.window, until=now, limit=rule.consecutive
    )
    limit_ms = rule.threshold.total_seconds() * 1000
    if len(rows) < rule.consecutive or any(row.duration_ms <= limit_ms for row in rows):
        return []
    slowest = max(rows, key=lambda row: row.duration_ms)
    took = format_duration_ms(slowest.duration_ms)
    limit = format_duration(rule.threshold)
    return [
        Finding(
            rule=LATENCY,
            fingerprint=LATENCY,
            title=f"{rule.consecutive} calls in a row slower than {limit}",
            threshold=f"> {limit} for {rule.consecutive} calls in a row",
            occurrences=tuple(sorted(row.recorded_at for row in rows)),
            last_run_id=rows[0].run_id,
            sample=f"slowest: {slowest.name} took {took}",
            details={
                "slowest_ms": slowest.duration_ms,
                "steps": sorted({row.name for row in rows}),
            },
        )
    ]


def format_duration_ms(ms: float) -> str:
    return format_duration(timedelta(milliseconds=max(ms, 1)))


async def failing_calls(
    db: AsyncSession, *, workflow: str, policy: WorkflowConfig, now: datetime
) -> list[Finding]:
    """More than P% of at least N calls in the window failed."""
    rule = policy.alerts.error_rate
    since = now - rule.window
    total, failed = await windows.count_calls(db, workflow=workflow, since=since, until=now)
    if total < rule.min_calls or failed * 100 <= rule.percent * total:
        return []
    rows = await windows.list_failed_calls(
        db, workflow=workflow, since=since, until=now, limit=OCCURRENCES_MAX
    )
    if not rows:
        return []
    share = failed * 100 / total
    window = format_duration(rule.window)
    return [
        Finding(
            rule=ERROR_RATE,
            fingerprint=ERROR_RATE,
            title=f"{share:.1f}% of calls failed in the last {window} ({failed} of {total})",
            threshold=f"> {rule.percent:g}% of at least {rule.min_calls} calls in {window}",
            occurrences=tuple(sorted(row.recorded_at for row in rows)),
            last_run_id=rows[0].run_id,
            sample=error_text(rows[0].error, rows[0].name)[:SAMPLE_MAX],
            details={"percent": round(share, 2), "failed": failed, "calls": total},
        )
    ]


async def token_spikes(
    db: AsyncSession, *, workflow: str, policy: WorkflowConfig, now: datetime
) -> list[Finding]:
    """Tokens per model call X% above the baseline of the same prompt version.

    A prompt version with too few calls before the window has no baseline yet, so a new
    version starts its own instead of being compared with the one it replaced.
    """
    rule = policy.alerts.token_spike
    window_from = now - rule.window
    rows = await windows.token_use_by_prompt_version(
        db,
        workflow=workflow,
        baseline_from=window_from - rule.baseline,
        window_from=window_from,
        until=now,
    )
    findings = []
    for row in rows:
        if min(row.calls, row.base_calls) < rule.min_calls or not row.base_tokens:
            continue
        average, baseline = row.tokens / row.calls, row.base_tokens / row.base_calls
        limit = baseline * (1 + rule.percent / 100)
        if average <= limit:
            continue
        heavy = await windows.list_heavy_calls(
            db,
            workflow=workflow,
            prompt_version=row.prompt_version,
            since=window_from,
            until=now,
            above=limit,
            limit=OCCURRENCES_MAX,
        )
        if not heavy:
            continue
        version = row.prompt_version or "(no prompt version)"
        rise = (average / baseline - 1) * 100
        findings.append(
            Finding(
                rule=TOKEN_SPIKE,
                fingerprint=hashlib.sha256(version.encode()).hexdigest()[:16],
                title=f"Tokens per call up {rise:.0f}% on prompt {first_line(version, 60)}",
                threshold=(
                    f"+{rule.percent:g}% over the {format_duration(rule.baseline)} before, "
                    "same prompt version"
                ),
                occurrences=tuple(sorted(call.recorded_at for call in heavy)),
                last_run_id=heavy[0].run_id,
                sample=(
                    f"{average:,.0f} tokens per call in the last {format_duration(rule.window)} "
                    f"against {baseline:,.0f} before ({row.calls} and {row.base_calls} calls)"
                ),
                details={
                    "prompt_version": row.prompt_version,
                    "average": round(average, 1),
                    "baseline": round(baseline, 1),
                },
            )
        )
    return findings
