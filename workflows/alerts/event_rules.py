"""The rules that read recent events: repeated error, latency, error rate, tokens.

Each reads only its window (``recorded_at >= now - window``, through the workflow/time
index) and returns what it sees as ``Finding``s per workflow; none of them knows whether an
alert is open. Workflows that share a rule's settings are read in one query (with the
defaults, all of them), so a tick's cost does not grow with the number of workflows.
Titles and samples are raw text from automations: the Slack builders escape them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import alert_windows as windows
from store.repositories.alert_windows import TokenUse
from workflows.alerts.findings import (
    ERROR_RATE,
    LATENCY,
    OCCURRENCES_MAX,
    REPEATED_ERROR,
    TOKEN_SPIKE,
    Finding,
)
from workflows.config.brief import ErrorRateRule, LatencyRule, TokenSpikeRule, WorkflowConfig
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


Policies = Mapping[str, WorkflowConfig]
Found = dict[str, list[Finding]]


def by_settings(
    policies: Policies, rule: Callable[[WorkflowConfig], Hashable]
) -> dict[Any, list[str]]:
    """Workflow names grouped by the settings of one rule (frozen, so hashable)."""
    groups: dict[Any, list[str]] = defaultdict(list)
    for name, policy in policies.items():
        groups[rule(policy)].append(name)
    return groups


def format_duration_ms(ms: float) -> str:
    return format_duration(timedelta(milliseconds=max(ms, 1)))


async def repeated_errors(db: AsyncSession, *, policies: Policies, now: datetime) -> Found:
    """Every error fingerprint seen in the window; five of one open an alert."""
    found: Found = defaultdict(list)
    for rule, names in by_settings(policies, lambda p: p.alerts.repeated_error).items():
        rows = await windows.list_failed_steps(
            db,
            workflows=names,
            since=now - rule.window,
            until=now,
            limit=OCCURRENCES_MAX * len(names),
        )
        groups: dict[tuple[str, str], list[tuple[datetime, str, str]]] = defaultdict(list)
        for workflow, error, name, run_id, recorded_at in rows:  # newest first
            text = error_text(error, name)
            groups[(workflow, fingerprint(text))].append((recorded_at, run_id, text))
        threshold = f"{rule.count} in {format_duration(rule.window)}"
        for (workflow, key), group in groups.items():
            _, run_id, text = group[0]
            found[workflow].append(
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
    return found


async def slow_calls(db: AsyncSession, *, policies: Policies, now: datetime) -> Found:
    """The last K model or tool calls in the window all took longer than T."""
    found: Found = defaultdict(list)
    for rule, names in by_settings(policies, lambda p: p.alerts.latency).items():
        rows = await windows.list_latest_calls(
            db, workflows=names, since=now - rule.window, until=now, limit=rule.consecutive
        )
        latest: dict[str, list[Any]] = defaultdict(list)
        for row in rows:  # per workflow, newest first
            latest[row.workflow].append(row)
        limit_ms = rule.threshold.total_seconds() * 1000
        for workflow, calls in latest.items():
            if len(calls) == rule.consecutive and all(c.duration_ms > limit_ms for c in calls):
                found[workflow].append(_latency(rule, calls))
    return found


def _latency(rule: LatencyRule, calls: list[Any]) -> Finding:
    slowest = max(calls, key=lambda call: call.duration_ms)
    limit = format_duration(rule.threshold)
    took = format_duration_ms(slowest.duration_ms)
    return Finding(
        rule=LATENCY,
        fingerprint=LATENCY,
        title=f"{rule.consecutive} calls in a row slower than {limit}",
        threshold=f"> {limit} for {rule.consecutive} calls in a row",
        occurrences=tuple(sorted(call.recorded_at for call in calls)),
        last_run_id=calls[0].run_id,
        sample=f"slowest: {slowest.name} took {took}",
        details={
            "slowest_ms": slowest.duration_ms,
            "steps": sorted({call.name for call in calls}),
        },
    )


async def failing_calls(db: AsyncSession, *, policies: Policies, now: datetime) -> Found:
    """More than P% of at least N calls in the window failed."""
    found: Found = defaultdict(list)
    for rule, names in by_settings(policies, lambda p: p.alerts.error_rate).items():
        since = now - rule.window
        counts = await windows.count_calls(db, workflows=names, since=since, until=now)
        for workflow, (total, failed) in counts.items():
            if total < rule.min_calls or failed * 100 <= rule.percent * total:
                continue
            rows = await windows.list_failed_calls(
                db, workflow=workflow, since=since, until=now, limit=OCCURRENCES_MAX
            )
            if rows:
                found[workflow].append(_error_rate(rule, total, failed, rows))
    return found


def _error_rate(rule: ErrorRateRule, total: int, failed: int, rows: Sequence[Any]) -> Finding:
    share = failed * 100 / total
    window = format_duration(rule.window)
    return Finding(
        rule=ERROR_RATE,
        fingerprint=ERROR_RATE,
        title=f"{share:.1f}% of calls failed in the last {window} ({failed} of {total})",
        threshold=f"> {rule.percent:g}% of at least {rule.min_calls} calls in {window}",
        occurrences=tuple(sorted(row.recorded_at for row in rows)),
        last_run_id=rows[0].run_id,
        sample=error_text(rows[0].error, rows[0].name)[:SAMPLE_MAX],
        details={"percent": round(share, 2), "failed": failed, "calls": total},
    )


async def token_spikes(db: AsyncSession, *, policies: Policies, now: datetime) -> Found:
    """Tokens per model call X% above the baseline of the same prompt version.

    A prompt version with too few calls before the window has no baseline yet, so a new
    version starts its own instead of being compared with the one it replaced.
    """
    found: Found = defaultdict(list)
    for rule, names in by_settings(policies, lambda p: p.alerts.token_spike).items():
        window_from = now - rule.window
        rows = await windows.token_use_by_prompt_version(
            db,
            workflows=names,
            baseline_from=window_from - rule.baseline,
            window_from=window_from,
            until=now,
        )
        for row in rows:
            if min(row.calls, row.base_calls) < rule.min_calls or not row.base_tokens:
                continue
            baseline = row.base_tokens / row.base_calls
            limit = baseline * (1 + rule.percent / 100)
            if row.tokens / row.calls <= limit:
                continue
            heavy = await windows.list_heavy_calls(
                db,
                workflow=row.workflow,
                prompt_version=row.prompt_version,
                since=window_from,
                until=now,
                above=limit,
                limit=OCCURRENCES_MAX,
            )
            if heavy:
                found[row.workflow].append(_token_spike(rule, row, heavy))
    return found


def _token_spike(rule: TokenSpikeRule, row: TokenUse, heavy: Sequence[Any]) -> Finding:
    average, baseline = row.tokens / row.calls, row.base_tokens / row.base_calls
    version = row.prompt_version or "(no prompt version)"
    rise = (average / baseline - 1) * 100
    return Finding(
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
