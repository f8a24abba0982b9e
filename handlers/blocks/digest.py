"""The weekly failure review as one message: pure Block Kit from a ``Digest``.

Order follows the questions a team asks on Monday: what broke (grouped, with a Trace
button on the latest run of each group), what reviewers did and how fast, why they
rejected and what they kept correcting, why cases came to people, and what changed in the
prompts. At most ``FAILURE_GROUPS`` groups are shown so the message stays readable and
inside Slack's fifty blocks.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from handlers.blocks._parts import (
    HEADER_TEXT_MAX,
    Message,
    build_message,
    category_label,
    clock,
    context,
    duration,
    inline,
    kind_label,
    plain,
    section,
    trace_button,
)
from workflows.digest.review import Digest, FailureGroup, ReviewNumbers
from workflows.ledger.views import OUTCOMES
from workflows.stats.versions import VersionEffect

FAILURE_GROUPS = 8
_OUTCOME_WORDS = {
    "approved": "approved",
    "edited": "edited",
    "rejected": "rejected",
    "taken_over": "taken over",
    "retry_requested": "retried",
}
_RULE_WORDS = {
    "repeated_error": "repeated error",
    "latency": "slow calls",
    "error_rate": "error rate",
    "token_spike": "token spike",
    "stale_handoff": "stale handoff",
    "credential_misuse": "revoked token in use",
}


def digest_message(digest: Digest) -> Message:
    """The review of one workflow's week."""
    title = "Weekly failure review · "
    blocks: list[Block] = [
        HeaderBlock(text=title + plain(digest.workflow, HEADER_TEXT_MAX - len(title))),
        context(
            f"{digest.start:%a %d %b %H:%M} to {digest.end:%a %d %b %H:%M} UTC · "
            f"{digest.runs:,} run(s), {digest.failed_runs:,} failed"
        ),
        section(_failures_headline(digest)),
    ]
    blocks.extend(_failure_block(group) for group in digest.failures[:FAILURE_GROUPS])
    hidden = len(digest.failures) - FAILURE_GROUPS
    if hidden > 0:
        blocks.append(context(f"… and {hidden} more error group(s); see `handrail trace`."))
    blocks.append(DividerBlock())
    blocks.append(section(_reviews_text(digest.reviews)))
    blocks.append(section(_handoffs_text(digest)))
    blocks.append(section(_prompts_text(digest)))
    if digest.suggestions:
        blocks.append(section(_suggestions_text(digest)))
    if digest.alerts:
        alerts = ", ".join(f"{_RULE_WORDS.get(rule, rule)} {n}" for rule, n in digest.alerts)
        blocks.append(context(f":rotating_light: Alerts raised: {inline(alerts, 500)}"))
    text = (
        f"Weekly failure review of {inline(digest.workflow, 80)}: "
        f"{digest.failed_runs} failed run(s), {digest.reviews.decisions} decision(s)"
    )
    return build_message(text, blocks)


def _failures_headline(digest: Digest) -> str:
    if not digest.failures:
        return "*Failed runs*\nNone this week. :tada:"
    return f"*Failed runs* by error ({len(digest.failures)} kind(s) of failure)"


def _failure_block(group: FailureGroup) -> Block:
    first = group.sample.strip().splitlines()[0] if group.sample.strip() else group.sample
    text = (
        f"*{group.count} time(s)* `{inline(first, 300)}`\n"
        f"latest: `{inline(group.latest_run_id, 200)}` at {clock(group.latest_at)}"
    )
    return section(text, accessory=trace_button(group.latest_run_id))


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _reviews_text(reviews: ReviewNumbers) -> str:
    if not reviews.decisions:
        return "*Reviews*\nNo decisions this week."
    shares = " · ".join(
        f"{_OUTCOME_WORDS[o]} {_percent(reviews.share(o))} ({reviews.outcomes[o]})"
        for o in OUTCOMES
        if reviews.outcomes.get(o)
    )
    lines = [f"*Reviews* ({reviews.decisions} decision(s))", shares]
    if reviews.median_ms is not None and reviews.p90_ms is not None:
        lines.append(
            f"Review time: median {duration(reviews.median_ms)}, p90 {duration(reviews.p90_ms)}"
        )
    if reviews.categories:
        cats = ", ".join(f"{category_label(c)} {n}" for c, n in reviews.categories)
        lines.append(f"Rejected for: {inline(cats, 400)}")
    for reason in reviews.reasons:
        lines.append(f"> {inline(reason, 200)}")
    correction = reviews.correction
    if correction is not None and correction.count > 1:
        before = f"“{inline(correction.before, 100)}”" if correction.before else "(nothing)"
        after = f"“{inline(correction.after, 100)}”" if correction.after else "(removed)"
        lines.append(f"Most repeated correction: {before} → {after} ({correction.count} times)")
    elif correction is not None:
        lines.append("No correction was made more than once.")
    return "\n".join(lines)


def _handoffs_text(digest: Digest) -> str:
    if not digest.handoff_kinds:
        return "*Handed to people*\nNo handoffs this week."
    kinds = ", ".join(f"{kind_label(kind)} {n}" for kind, n in digest.handoff_kinds)
    total = sum(n for _, n in digest.handoff_kinds)
    return f"*Handed to people* ({total})\n{inline(kinds, 1000)}"


def _prompts_text(digest: Digest) -> str:
    if not digest.new_prompt_versions:
        return "*Prompt versions*\nNo new prompt version this week."
    lines = ["*Prompt versions* new this week"]
    for version in digest.new_prompt_versions:
        name = inline(version.version or "(none)", 100)
        lines.append(f"• `{name}` from {clock(version.first_used)} ({version.runs} run(s))")
    for effect in digest.version_effects:
        lines.append(_effect_text(effect))
    earlier = digest.earlier_prompt_versions[:10]
    if earlier:
        lines.append("before: " + ", ".join(f"`{inline(v or '(none)', 60)}`" for v in earlier))
    return "\n".join(lines)


def _effect_text(effect: VersionEffect) -> str:
    """``v2`` against ``v1``: wrong rate and median review time, each with its n."""
    before = effect.wrong_before.describe() if effect.wrong_before else "no earlier version"
    p50 = f"{_p50(effect.review_p50_before_ms)} → {_p50(effect.review_p50_after_ms)}"
    why = (
        f" · why: {inline(effect.note, 200)}" if effect.note else " · unexplained (no prompt note)"
    )
    against = f" against `{inline(effect.previous, 60)}`" if effect.previous else ""
    return (
        f"  `{inline(effect.version, 60)}`{against}: wrong rate {before} → "
        f"{effect.wrong_after.describe()}, review time p50 {p50}{why}"
    )


def _p50(ms: int | None) -> str:
    return "—" if ms is None else duration(ms)


def _suggestions_text(digest: Digest) -> str:
    """Thresholds earned, as suggestions: the YAML change is in ``handrail stats --suggest``."""
    lines = ["*Thresholds to consider* (nothing changes unless you edit workflows.yml)"]
    lines += [f"• {inline(suggestion.describe(), 500)}" for suggestion in digest.suggestions[:3]]
    lines.append(f"See the exact change: `handrail stats {inline(digest.workflow, 64)} --suggest`")
    return "\n".join(lines)
