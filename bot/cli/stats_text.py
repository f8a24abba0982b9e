"""``handrail stats`` as text: tables a person reads in a terminal, every rate with its n."""

from __future__ import annotations

from datetime import timedelta

from workflows.durations import format_duration
from workflows.stats.evidence import MIN_CASES
from workflows.stats.figures import STATUSES, SliceFigures
from workflows.stats.graduation import Suggestion
from workflows.stats.report import StatsReport

_HEADINGS = ("", "cases", "approved", "edited", "rejected", "expired", "taken over", "pending")


def _ms(value: int | None) -> str:
    return "—" if value is None else format_duration(timedelta(milliseconds=value))


def _row(figures: SliceFigures) -> list[str]:
    s = figures.statuses
    return [
        figures.key if figures.key != "*" else "all",
        str(figures.handoffs),
        str(s.get("approved", 0)),
        str(s.get("edited", 0)),
        str(s.get("rejected", 0)),
        str(s.get("expired", 0)),
        str(s.get("taken_over", 0) + s.get("retry_requested", 0)),
        str(s.get("pending", 0)),
        figures.wrong_rate.describe(),
        f"{_ms(figures.review_time.p50_ms)} / {_ms(figures.review_time.p90_ms)}",
        f"{_ms(figures.first_look.p50_ms)} / {_ms(figures.first_look.p90_ms)}",
    ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render_suggestions(suggestions: list[Suggestion]) -> list[str]:
    if not suggestions:
        return ["No threshold to suggest: no always-asked action has the evidence for one."]
    lines: list[str] = []
    for suggestion in suggestions:
        lines += [suggestion.describe().replace("`", ""), "", suggestion.yaml_diff, ""]
    return lines


def render_stats(report: StatsReport, *, suggest_only: bool = False) -> str:
    """The whole report, section by section; with ``suggest_only`` just the suggestions."""
    if suggest_only:
        return "\n".join(render_suggestions(report.suggestions)) + "\n"
    o = report.overall
    lines = [
        f"{report.workflow}: {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
        f"gate questions: {o.questions} ("
        + ", ".join(f"{v} {n}" for v, n in sorted(o.verdicts.items()))
        + f"); handed to a person: {o.handoffs} ({o.shadow_cases} shadow)",
        "why handed off: "
        + (", ".join(f"{kind} {n}" for kind, n in o.kinds.items()) or "nothing was"),
        "",
    ]
    headings = [*_HEADINGS, "wrong rate", "review p50 / p90", "first look p50 / p90"]
    lines += _table([headings, _row(o), *(_row(piece) for piece in report.slices)])
    if o.rejected_by_category:
        lines.append(
            "rejected by category: "
            + ", ".join(f"{c} {n}" for c, n in o.rejected_by_category.items())
        )
    saved = o.minutes_saved
    lines.append(
        f"without a person: {o.without_a_person} case(s); time saved (estimate): "
        + (f"{saved / 60:.1f} h" if saved is not None else "set minutes_per_case in workflows.yml")
    )
    lines += ["", "Reviewers"]
    if report.reviewers:
        rows = [["", "decisions", *STATUSES[:3], "approved faster than reading"]]
        rows += [
            [
                load.reviewer,
                str(load.decisions),
                *(str(load.outcomes.get(s, 0)) for s in STATUSES[:3]),
                str(load.fast_approvals),
            ]
            for load in report.reviewers
        ]
        lines += _table(rows)
    else:
        lines.append("no decisions in the window")
    for outlier in report.outliers:
        lines.append(
            f"! {outlier.reviewer} approves {outlier.action} unchanged {outlier.rate.describe()}"
            f" against peers' {outlier.peers.describe()}"
        )
    lines += ["", "Most repeated corrections"]
    lines += [
        f"{c.count}x {c.before or '(nothing)'!r} → {c.after or '(nothing)'!r}"
        for c in report.corrections
    ] or ["none"]
    lines += [
        "",
        f"Calibration (share approved unchanged by confidence; target {report.target:.0%})",
    ]
    for action in report.calibration:
        bands = ", ".join(f"{b.low:.1f}-{b.high:.1f}: {b.rate.describe()}" for b in action.bands)
        lines.append(f"{action.action}: {bands or 'no confidences'}")
        if action.threshold is None:
            lines.append(f"  no suggestion: {action.why_none}")
        else:
            t = action.threshold
            lines.append(
                f"  supported threshold {t.value:.2f}: {t.approved} of {t.decided} approved "
                f"unchanged (lower bound {t.lower_bound:.1%}); would have spared {t.saved} of "
                f"{t.handoffs} handoff(s)"
            )
    if report.shadow:
        lines += ["", "Shadow agreement (reviewer approved unchanged what the automation drafted)"]
        for agreement in report.shadow:
            bands = ", ".join(
                f"{b.low:.1f}-{b.high:.1f}: {b.rate.describe()}" for b in agreement.bands
            )
            lines.append(
                f"{agreement.action}: {agreement.overall.describe()}; {bands or 'no confidences'}"
            )
    lines += ["", "Suggestions", *render_suggestions(report.suggestions)]
    lines += ["", "Prompt versions"]
    for seen in report.changelog.versions:
        note = f"{seen.note.reason} ({seen.note.author})" if seen.note else "UNEXPLAINED"
        if seen.version is None:
            note = "runs without a prompt version"
        first = f"first seen {seen.first_seen:%Y-%m-%d}"
        lines.append(f"{seen.version or '—'}  {first}  {seen.runs} run(s)  {note}")
    lines.append(f"(rates below {MIN_CASES} cases show as not enough data)")
    return "\n".join(lines) + "\n"
