"""Review metrics read back from recorded history, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from tests.conftest import TEST_WORKFLOWS
from tests.stats_harness import Case, seed
from workflows.clock import ManualClock
from workflows.config.brief import parse_config
from workflows.errors import InvalidInput, NotFound
from workflows.stats.report import StatsReport, build_stats

Client = TestClient[Any, Any]
MONTH = timedelta(days=30)


async def stats(services: Services, *, by: str | None = None, **changes: Any) -> StatsReport:
    config = services.config
    if changes:
        data = copy.deepcopy(TEST_WORKFLOWS)
        data["workflows"]["ticket-triage"].update(changes)
        config = parse_config(data)
    async with services.readers() as db:
        return await build_stats(
            db,
            config=config,
            workflow="ticket-triage",
            since=MONTH,
            split=by,
            now=services.clock(),
        )


@pytest.fixture
async def history(client: Client, services: Services, clock: ManualClock) -> ManualClock:
    """The app has started (workflow rows exist); the clock stands a day after the seeds."""
    clock.advance(days=1)
    return clock


async def test_an_empty_window_divides_by_nothing(history: ManualClock, services: Services) -> None:
    """With no cases at all every count is zero, rates say not enough data, and no suggestion."""
    report = await stats(services)
    assert report.overall.handoffs == 0
    assert report.overall.wrong_rate.value is None
    assert report.overall.review_time.p50_ms is None
    assert report.suggestions == []
    orjson.dumps(report.to_json())


async def test_outcomes_are_counted_by_what_became_of_each_case(
    history: ManualClock, services: Services
) -> None:
    """Approved, edited, rejected (by category), expired and pending cases are each counted."""
    cases = [Case(outcome="approved")] * 3 + [Case(outcome="edited"), Case(outcome="expired")]
    cases += [Case(outcome="rejected", category="tone"), Case(outcome="pending")]
    cases += [Case(outcome=None)] * 4
    await seed(services, cases, at=history() - timedelta(hours=5))
    overall = (await stats(services)).overall
    assert overall.statuses == {
        "approved": 3,
        "edited": 1,
        "rejected": 1,
        "expired": 1,
        "pending": 1,
    }
    assert overall.rejected_by_category == {"tone": 1}
    assert (overall.wrong_rate.part, overall.wrong_rate.n) == (2, 5)
    assert overall.verdicts == {"review": 7, "allow": 4}


async def test_wrong_rate_is_shown_from_the_minimum_sample(
    history: ManualClock, services: Services
) -> None:
    """Twenty decided drafts, five of them edited, give a wrong rate of 25%."""
    cases = [Case(outcome="approved")] * 15 + [Case(outcome="edited")] * 5
    await seed(services, cases, at=history() - timedelta(hours=5))
    assert (await stats(services)).overall.wrong_rate.value == pytest.approx(0.25)


async def test_review_time_percentiles_are_nearest_rank(
    history: ManualClock, services: Services
) -> None:
    """Ten decisions taking 1 to 10 minutes have a p50 of 5 minutes and a p90 of 9."""
    cases = [Case(latency_s=60 * minutes) for minutes in range(10, 0, -1)]
    await seed(services, cases, at=history() - timedelta(hours=5))
    review = (await stats(services)).overall.review_time
    assert (review.p50_ms, review.p90_ms) == (5 * 60_000, 9 * 60_000)


async def test_the_window_leaves_older_cases_out(history: ManualClock, services: Services) -> None:
    """A case asked 31 days ago is outside a 30-day window."""
    await seed(services, [Case()], at=history() - timedelta(days=31))
    assert (await stats(services)).overall.handoffs == 0


async def test_metrics_split_by_prompt_version(history: ManualClock, services: Services) -> None:
    """Split by prompt version, each version has its own counts and wrong rate."""
    cases = [Case(prompt_version="v1", outcome="edited")] * 2 + [Case(prompt_version="v2")] * 3
    await seed(services, cases, at=history() - timedelta(hours=5))
    report = await stats(services, by="prompt_version")
    by_key = {piece.key: piece for piece in report.slices}
    assert by_key["v1"].statuses == {"edited": 2}
    assert by_key["v2"].statuses == {"approved": 3}
    assert by_key["v2"].review_time.p50_ms == 60_000


async def test_metrics_split_by_reviewer(history: ManualClock, services: Services) -> None:
    """Split by reviewer, each person's decisions are theirs; undecided cases stand apart."""
    cases = [Case(reviewer="U0ALICE")] * 2 + [Case(reviewer="U0BOB"), Case(outcome="pending")]
    await seed(services, cases, at=history() - timedelta(hours=5))
    report = await stats(services, by="reviewer")
    assert {piece.key: piece.handoffs for piece in report.slices} == {
        "U0ALICE": 2,
        "U0BOB": 1,
        "(undecided)": 1,
    }
    assert [(load.reviewer, load.decisions) for load in report.reviewers] == [
        ("U0ALICE", 2),
        ("U0BOB", 1),
    ]


async def test_time_saved_needs_minutes_per_case(history: ManualClock, services: Services) -> None:
    """Cases that went through without a person times minutes_per_case is the estimate."""
    await seed(services, [Case(outcome=None)] * 6, at=history() - timedelta(hours=5))
    assert (await stats(services)).overall.minutes_saved is None
    assert (await stats(services, minutes_per_case=2.5)).overall.minutes_saved == 15


async def test_approvals_faster_than_reading_are_flagged(
    history: ManualClock, services: Services
) -> None:
    """A 600-character draft approved in 5 s is too fast to read; approved in 60 s it is not."""
    draft = "word " * 120
    cases = [Case(draft=draft, latency_s=5), Case(draft=draft, latency_s=60)]
    await seed(services, cases, at=history() - timedelta(hours=5))
    report = await stats(services)
    assert report.overall.fast_approvals == 1
    assert report.reviewers[0].fast_approvals == 1


async def test_a_reviewer_approving_far_more_than_peers_is_flagged(
    history: ManualClock, services: Services
) -> None:
    """Alice approves all 30 drafts while Bob edits half of his: Alice is flagged."""
    cases = [Case(reviewer="U0ALICE")] * 30
    cases += [Case(reviewer="U0BOB")] * 15 + [Case(reviewer="U0BOB", outcome="edited")] * 15
    await seed(services, cases, at=history() - timedelta(hours=5))
    outliers = (await stats(services)).outliers
    assert [(o.reviewer, o.action) for o in outliers] == [("U0ALICE", "send_reply")]


async def test_one_reviewer_has_no_peers_to_stand_out_from(
    history: ManualClock, services: Services
) -> None:
    """With a single reviewer, however many approvals, nobody is flagged."""
    await seed(services, [Case(reviewer="U0ALICE")] * 40, at=history() - timedelta(hours=5))
    assert (await stats(services)).outliers == []


async def test_repeated_corrections_are_grouped(history: ManualClock, services: Services) -> None:
    """The same word change in three edits is the top correction, counted three times."""
    diff = "--- draft\n+++ sent\n@@ -1 +1 @@\n-Dear Sam,\n+Hi Sam,"
    await seed(services, [Case(outcome="edited", diff=diff)] * 3, at=history() - timedelta(hours=5))
    top = (await stats(services)).corrections[0]
    assert (top.before, top.after, top.count) == ("dear", "hi", 3)


async def test_an_unknown_split_is_refused(history: ManualClock, services: Services) -> None:
    """Splitting by something that is not a split names the ones there are."""
    with pytest.raises(InvalidInput, match="action, prompt_version, reviewer"):
        await stats(services, by="model")


async def test_an_unknown_workflow_is_not_found(history: ManualClock, services: Services) -> None:
    """Stats of a workflow missing from workflows.yml say which ones exist."""
    async with services.readers() as db:
        with pytest.raises(NotFound, match="ticket-triage"):
            await build_stats(
                db,
                config=services.config,
                workflow="nope",
                since=MONTH,
                split=None,
                now=services.clock(),
            )
