"""The weekly failure review: what failed, what reviewers changed, what changed under them.

Once a week (Monday 09:00 in the team's time zone by default) each workflow's alert
channel and its owner get one message: failed runs grouped by error fingerprint, reviewer
outcomes and review times, why reviewers rejected, the correction they made most often,
why cases were handed off, and the prompt versions that came in. The same review is
available on demand (``/handrail digest WORKFLOW``) through ``build_digest``.

The outbox row names the workflow and the end of the week (``ticket-triage@<iso time>``),
so the message is rebuilt from the database when it is sent and always shows that week.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import digest as repo
from workflows.alerts.notify import people
from workflows.config.brief import HandrailConfig
from workflows.delivery import outbox
from workflows.digest.corrections import Correction, most_repeated_correction
from workflows.errors import NotFound
from workflows.fingerprint import fingerprint
from workflows.stats.charts.share import queue_stats_charts
from workflows.stats.graduation import Suggestion
from workflows.stats.report import build_stats
from workflows.stats.versions import VersionEffect, version_effects

DIGEST_RENDER = "digest"
WEEK = timedelta(days=7)
#: How far back a prompt version counts as already known (not new this week).
KNOWN_VERSIONS = timedelta(days=28)
#: The review metrics behind the suggestions and the prompt versions' effects.
STATS_WINDOW = timedelta(days=30)
FAILED_RUNS_MAX = 5000
REASONS_SHOWN = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureGroup:
    """Failed runs whose errors share a fingerprint."""

    fingerprint: str
    count: int
    sample: str
    latest_run_id: str
    latest_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewNumbers:
    """What reviewers decided during the week, and how fast."""

    decisions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    median_ms: int | None = None
    p90_ms: int | None = None
    categories: list[tuple[str, int]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    """The latest rejection reasons, newest first."""
    correction: Correction | None = None

    def share(self, outcome: str) -> float:
        """The share of decisions with ``outcome``, from 0 to 1."""
        return self.outcomes.get(outcome, 0) / self.decisions if self.decisions else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptVersion:
    version: str | None
    first_used: datetime
    runs: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """One workflow's week, ready for the builder."""

    workflow: str
    start: datetime
    end: datetime
    runs: int
    failed_runs: int
    failures: list[FailureGroup]
    reviews: ReviewNumbers
    handoff_kinds: list[tuple[str, int]]
    new_prompt_versions: list[PromptVersion]
    earlier_prompt_versions: list[str | None]
    alerts: list[tuple[str, int]]
    suggestions: list[Suggestion] = field(default_factory=list)
    """Thresholds always-asked actions have earned (over ``STATS_WINDOW``), for a person."""
    version_effects: list[VersionEffect] = field(default_factory=list)
    """What each new prompt version did to the wrong rate and the review time."""


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile of ``values`` (``share`` from 0 to 1); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


async def build_digest(
    db: AsyncSession, *, config: HandrailConfig, workflow: str, now: datetime
) -> Digest:
    """The review of the seven days before ``now`` for ``workflow`` (reads only)."""
    if config.workflow(workflow) is None:
        known = ", ".join(sorted(config.workflows)) or "none"
        raise NotFound(
            f"no workflow named '{workflow}' in workflows.yml (known: {known})",
            details=[{"loc": "workflow", "value": workflow}],
        )
    start = now - WEEK
    runs, failed = await repo.count_runs(db, workflow=workflow, start=start, end=now)
    versions = await repo.prompt_versions_used(db, workflow=workflow, start=start, end=now)
    earlier = await repo.distinct_prompt_versions(
        db, workflow=workflow, start=start - KNOWN_VERSIONS, end=start
    )
    stats = await build_stats(
        db, config=config, workflow=workflow, since=STATS_WINDOW, split="prompt_version", now=now
    )
    new_versions = [version for version, _, _ in versions if version not in earlier]
    return Digest(
        workflow=workflow,
        start=start,
        end=now,
        runs=runs,
        failed_runs=failed,
        failures=await _failures(db, workflow=workflow, start=start, end=now),
        reviews=await _reviews(db, workflow=workflow, start=start, end=now),
        handoff_kinds=await repo.count_handoff_kinds(db, workflow=workflow, start=start, end=now),
        new_prompt_versions=[
            PromptVersion(version=version, first_used=first, runs=count)
            for version, first, count in versions
            if version not in earlier
        ],
        earlier_prompt_versions=sorted(earlier, key=lambda v: v or ""),
        alerts=await repo.count_alerts(db, workflow=workflow, start=start, end=now),
        suggestions=stats.suggestions,
        version_effects=version_effects(stats, new_versions),
    )


async def _failures(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> list[FailureGroup]:
    """Failed runs grouped by the fingerprint of their error, most frequent first."""
    rows = await repo.list_failed_runs(
        db, workflow=workflow, start=start, end=end, limit=FAILED_RUNS_MAX
    )
    from_steps = await repo.last_step_errors(db, [run_id for run_id, error, _ in rows if not error])
    groups: dict[str, list[tuple[str, str, datetime]]] = {}
    for run_id, error, started_at in rows:  # newest first
        text = error or from_steps.get(run_id) or "failed without an error text"
        groups.setdefault(fingerprint(text), []).append((run_id, text, started_at))
    failures = [
        FailureGroup(
            fingerprint=key,
            count=len(group),
            sample=group[0][1],
            latest_run_id=group[0][0],
            latest_at=group[0][2],
        )
        for key, group in groups.items()
    ]
    return sorted(failures, key=lambda g: (-g.count, -g.latest_at.timestamp()))


async def _reviews(
    db: AsyncSession, *, workflow: str, start: datetime, end: datetime
) -> ReviewNumbers:
    rows = await repo.list_decisions(db, workflow=workflow, start=start, end=end)
    if not rows:
        return ReviewNumbers()
    latencies = [latency for _, latency, _, _, _ in rows]
    categories = Counter(category for outcome, _, _, category, _ in rows if category)
    return ReviewNumbers(
        decisions=len(rows),
        outcomes=dict(Counter(outcome for outcome, *_ in rows)),
        median_ms=percentile(latencies, 0.5),
        p90_ms=percentile(latencies, 0.9),
        categories=sorted(categories.items(), key=lambda item: (-item[1], item[0])),
        reasons=[
            reason.strip()
            for outcome, _, reason, _, _ in rows
            if outcome == "rejected" and reason and reason.strip()
        ][:REASONS_SHOWN],
        correction=most_repeated_correction(diff for *_, diff in rows if diff),
    )


def digest_ref(workflow: str, end: datetime) -> str:
    return f"{workflow}@{end.isoformat()}"


def parse_digest_ref(ref: str) -> tuple[str, datetime]:
    """``ticket-triage@2026-01-12T09:00:00+00:00`` → the workflow and the week's end."""
    workflow, _, end = ref.rpartition("@")
    try:
        return workflow, datetime.fromisoformat(end)
    except ValueError:
        raise NotFound(f"no digest '{ref}'", details=[{"loc": "ref"}]) from None


async def queue_weekly_digests(db: AsyncSession, *, config: HandrailConfig, now: datetime) -> int:
    """Queue this week's review to each workflow's alert channel and owner (once a day
    at most per target, whatever runs it twice), with the review metrics' charts of the
    last 30 days in its thread."""
    queued = 0
    day = now.strftime("%Y-%m-%d")
    for workflow, policy in config.workflows.items():
        ref = digest_ref(workflow, now)
        targets = [policy.alert_channel] if policy.alert_channel else []
        targets += people([policy.owner] if policy.owner else [])
        for target in targets:
            key = f"digest:{workflow}:{day}:{target}"
            await outbox.post_message(
                db,
                key=key,
                channel=target,
                render=DIGEST_RENDER,
                ref=ref,
                workflow=workflow,
                now=now,
            )
            await queue_stats_charts(
                db,
                key=f"{key}:charts",
                channel=target,
                workflow=workflow,
                end=now,
                since=STATS_WINDOW,
                now=now,
                thread_of=key,
            )
            queued += 1
    return queued
