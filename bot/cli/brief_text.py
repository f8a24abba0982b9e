"""The backtest report as text for a terminal (and a Slack code block): pure, no I/O."""

from __future__ import annotations

from datetime import timedelta

from workflows.backtest.report import BacktestReport, WorkflowBacktest
from workflows.durations import format_duration


def render_backtest(report: BacktestReport) -> str:
    """Every workflow's verdict changes, review load and expected wait, then the digest."""
    partial = report.partial
    lines = [
        f"Backtest of {report.brief} over {report.since:%Y-%m-%d %H:%M} to "
        f"{report.until:%Y-%m-%d %H:%M} UTC: {report.questions} gate question(s) re-decided"
        + (
            f", {partial} of them replayed on partial inputs "
            "(recorded before the gate kept what the policy reads)"
            if partial
            else ""
        ),
    ]
    for result in report.workflows:
        lines += ["", *_workflow_lines(result)]
    if report.dropped:
        lines += ["", f"not in the proposed brief, not evaluated: {', '.join(report.dropped)}"]
    lines += ["", f"report digest: {report.to_json()['digest']}"]
    return "\n".join(lines) + "\n"


def _workflow_lines(result: WorkflowBacktest) -> list[str]:
    now = result.mode_now or "not in the current brief"
    lines = [f"{result.workflow} (mode: {now} -> {result.mode_proposed})"]
    if not result.questions:
        return [*lines, "  no gate questions recorded in the window; nothing to compare"]
    unchanged = result.questions - sum(t.count for t in result.changed)
    lines.append(f"  questions: {result.questions}; verdict unchanged: {unchanged}")
    if result.partial:
        lines.append(f"  replayed on partial inputs: {result.partial}")
    if result.changed:
        lines.append("  verdicts that would change:")
        for change in result.changed:
            examples = ", ".join(change.examples)
            lines.append(
                f"    {change.before} -> {change.after}: {change.count}"
                + (f" (e.g. {examples})" if examples else "")
            )
    else:
        lines.append("  no verdict would change")
    before, after = result.reviews_before, result.reviews_after
    lines.append(
        f"  review load: {before} -> {after} case(s) for a person "
        f"({result.per_day(before):.1f} -> {result.per_day(after):.1f} a day)"
    )
    per_reviewer = result.per_reviewer_per_day()
    if per_reviewer is None:
        lines.append("  per reviewer: the proposed brief names no reviewers")
    else:
        lines.append(
            f"  per reviewer, spread evenly over {len(result.reviewers)}: "
            f"{per_reviewer:.1f} a day each"
        )
    busiest = sorted(result.reviews_by_day.items(), key=lambda item: -item[1][1])[:3]
    if busiest and after:
        days = ", ".join(f"{day:%m-%d} {counts[1]} (was {counts[0]})" for day, counts in busiest)
        lines.append(f"  busiest days: {days}")
    lines.append(f"  expected wait: {_wait(result)}")
    return lines


def _wait(result: WorkflowBacktest) -> str:
    waits = result.waits
    if waits is None or not waits.decisions or waits.p50_ms is None or waits.p90_ms is None:
        return "no decisions in the window to measure review times by"
    p50 = format_duration(timedelta(milliseconds=waits.p50_ms))
    p90 = format_duration(timedelta(milliseconds=waits.p90_ms))
    few = " (few decisions: a rough guide)" if waits.decisions < 20 else ""
    return f"p50 {p50}, p90 {p90}, as observed over {waits.decisions} decision(s){few}"
