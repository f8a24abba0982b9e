"""``/handrail stats WORKFLOW`` as one private message: pure Block Kit from a ``StatsReport``.

Every value that came from outside (action names, versions, categories, corrections, the
YAML change) is escaped and cut before it reaches mrkdwn; every rate shows its n.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from handlers.blocks._parts import (
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    Message,
    build_message,
    category_label,
    code_section,
    context,
    duration,
    inline,
    kind_label,
    mention,
    plain,
    section,
)
from workflows.stats.figures import SliceFigures
from workflows.stats.report import StatsReport

SLICES_SHOWN = 8
SUGGESTIONS_SHOWN = 3


def _ms(value: int | None) -> str:
    return "—" if value is None else duration(value)


def _slice_line(figures: SliceFigures) -> str:
    s = figures.statuses
    name = "All cases" if figures.key == "*" else f"`{inline(figures.key, 80)}`"
    return (
        f"*{name}*: {figures.handoffs} handed off · approved {s.get('approved', 0)}, "
        f"edited {s.get('edited', 0)}, rejected {s.get('rejected', 0)}, "
        f"expired {s.get('expired', 0)}, taken over {s.get('taken_over', 0)}, "
        f"pending {s.get('pending', 0)}\n"
        f"Wrong rate {figures.wrong_rate.describe()} · review time p50 "
        f"{_ms(figures.review_time.p50_ms)}, p90 {_ms(figures.review_time.p90_ms)} · first look "
        f"p50 {_ms(figures.first_look.p50_ms)}"
    )


def _overview(report: StatsReport) -> str:
    o = report.overall
    kinds = ", ".join(f"{kind_label(k)} {n}" for k, n in o.kinds.items()) or "none"
    lines = [
        f"{o.questions} gate question(s): {o.without_a_person} went through without a person, "
        f"{o.handoffs} were handed off ({o.shadow_cases} in shadow)",
        f"Why: {inline(kinds, 600)}",
    ]
    if o.rejected_by_category:
        cats = ", ".join(f"{category_label(c)} {n}" for c, n in o.rejected_by_category.items())
        lines.append(f"Rejected for: {inline(cats, 400)}")
    saved = o.minutes_saved
    lines.append(
        f"Time saved (estimate): {saved / 60:.1f} h"
        if saved is not None
        else "Time saved: set `minutes_per_case` in workflows.yml for an estimate"
    )
    return "\n".join(lines)


def _people(report: StatsReport) -> str:
    if not report.reviewers:
        return "*Reviewers*\nNo decisions in this window."
    lines = ["*Reviewers*"]
    for load in report.reviewers[:10]:
        lines.append(
            f"{mention(load.reviewer)}: {load.decisions} decision(s), "
            f"{load.fast_approvals} approved faster than the draft can be read"
        )
    for outlier in report.outliers[:5]:
        lines.append(
            f":eyes: {mention(outlier.reviewer)} approves `{inline(outlier.action, 60)}` "
            f"unchanged {outlier.rate.describe()}; peers {outlier.peers.describe()}"
        )
    return _fitted(lines)


def _fitted(lines: list[str]) -> str:
    """Whole lines (each already escaped) up to what a section holds, never a cut one."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > SECTION_TEXT_MAX - 40:
            kept.append("… more in `handrail stats`")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _calibration(report: StatsReport) -> str:
    lines = [f"*Calibration* (approved unchanged by confidence; target {report.target:.0%})"]
    for action in report.calibration[:SLICES_SHOWN]:
        bands = ", ".join(f"{b.low:.1f}+: {b.rate.describe()}" for b in action.bands)
        lines.append(f"`{inline(action.action, 60)}`: {bands or 'no confidences'}")
    for agreement in report.shadow[:SLICES_SHOWN]:
        lines.append(
            f"Shadow agreement on `{inline(agreement.action, 60)}`: {agreement.overall.describe()}"
        )
    return "\n".join(lines)


def stats_message(report: StatsReport) -> Message:
    """The review metrics of one workflow's window, with any suggested threshold."""
    title = "Review metrics · "
    blocks: list[Block] = [
        HeaderBlock(text=title + plain(report.workflow, HEADER_TEXT_MAX - len(title))),
        context(f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC"),
        section(_overview(report)),
        section(_slice_line(report.overall)),
    ]
    blocks += [section(_slice_line(piece)) for piece in report.slices[:SLICES_SHOWN]]
    if len(report.slices) > SLICES_SHOWN:
        blocks.append(
            context(f"… and {len(report.slices) - SLICES_SHOWN} more; see `handrail stats`.")
        )
    blocks += [DividerBlock(), section(_people(report)), section(_calibration(report))]
    if report.corrections:
        top = report.corrections[0]
        before = f"“{inline(top.before, 100)}”" if top.before else "(nothing)"
        after = f"“{inline(top.after, 100)}”" if top.after else "(removed)"
        blocks.append(
            section(f"*Most repeated correction*: {before} → {after} ({top.count} times)")
        )
    for suggestion in report.suggestions[:SUGGESTIONS_SHOWN]:
        blocks.append(section(f":seedling: {inline(suggestion.describe(), 600)}"))
        blocks += code_section(
            "The workflows.yml change, if you accept it",
            suggestion.yaml_diff,
            what="change",
            whole_note="run `handrail stats --suggest` for all of it",
        )
    unexplained = [v.version or "" for v in report.changelog.unexplained]
    if unexplained:
        names = ", ".join(f"`{inline(v, 60)}`" for v in unexplained[:10])
        blocks.append(context(f"Prompt versions without a note: {names}"))
    text = f"Review metrics of {inline(report.workflow, 80)}: {report.overall.handoffs} handoff(s)"
    return build_message(text, blocks)
