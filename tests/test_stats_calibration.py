"""Confidence calibration, shadow agreement and trust graduation from recorded decisions."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from bot.services import Services
from tests.conftest import TEST_WORKFLOWS
from tests.stats_harness import Case, seed
from workflows.clock import ManualClock
from workflows.config.brief import parse_config
from workflows.stats.evidence import Rate, wilson_lower_bound
from workflows.stats.report import StatsReport, build_stats

Client = TestClient[Any, Any]


async def stats(services: Services, **changes: Any) -> StatsReport:
    data = copy.deepcopy(TEST_WORKFLOWS)
    data["workflows"]["ticket-triage"].update(changes)
    async with services.readers() as db:
        return await build_stats(
            db,
            config=parse_config(data),
            workflow="ticket-triage",
            since=timedelta(days=30),
            split=None,
            now=services.clock(),
        )


@pytest.fixture
async def history(client: Client, services: Services, clock: ManualClock) -> ManualClock:
    clock.advance(days=1)
    return clock


def earned_trust() -> list[Case]:
    """300 confident send_reply drafts all approved, 40 unsure ones half edited."""
    cases = [Case(confidence=0.9 + (i % 10) / 100) for i in range(300)]
    cases += [Case(confidence=0.5) for _ in range(20)]
    cases += [Case(confidence=0.5, outcome="edited") for _ in range(20)]
    return cases


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [(50, 100, 0.4038), (10, 10, 0.7225), (0, 10, 0.0), (212, 216, 0.9533)],
)
def test_wilson_lower_bound_matches_known_values(successes: int, n: int, expected: float) -> None:
    """The Wilson 95% lower bound agrees with published values to four places."""
    assert wilson_lower_bound(successes, n) == pytest.approx(expected, abs=1e-4)


def test_wilson_lower_bound_of_nothing_is_zero() -> None:
    """No cases give a lower bound of zero, not a division by zero."""
    assert wilson_lower_bound(0, 0) == 0.0


def test_a_small_sample_is_not_enough_data() -> None:
    """Three approvals of three are described as not enough data, with the counts."""
    assert Rate(3, 3).describe() == "not enough data (3 of 3)"


async def test_reliability_table_puts_bands_beside_approvals(
    history: ManualClock, services: Services
) -> None:
    """The 0.5 band shows half approved unchanged, the 0.9 band all of them."""
    await seed(services, earned_trust(), at=history() - timedelta(hours=10))
    (send_reply,) = (await stats(services)).calibration
    bands = {band.low: (band.rate.part, band.rate.n) for band in send_reply.bands}
    assert bands == {0.5: (20, 40), 0.9: (300, 300)}


async def test_a_threshold_is_suggested_where_the_evidence_carries_it(
    history: ManualClock, services: Services
) -> None:
    """300 approvals without a miss above 0.9 support 0.9, which spares 300 of 340 reviews."""
    await seed(services, earned_trust(), at=history() - timedelta(hours=10))
    (send_reply,) = (await stats(services)).calibration
    assert send_reply.threshold is not None
    assert send_reply.threshold.value == pytest.approx(0.9)
    assert (send_reply.threshold.saved, send_reply.threshold.handoffs) == (300, 340)


async def test_thin_evidence_suggests_nothing_and_says_why(
    history: ManualClock, services: Services
) -> None:
    """Fifty approvals without a miss cannot show 98%: no threshold, and the reason."""
    await seed(services, [Case(confidence=0.95)] * 50, at=history() - timedelta(hours=10))
    (send_reply,) = (await stats(services)).calibration
    assert send_reply.threshold is None
    assert send_reply.why_none is not None
    assert "not enough evidence" in send_reply.why_none


async def test_missing_confidences_suggest_nothing(
    history: ManualClock, services: Services
) -> None:
    """When no case carried a confidence, calibration says so and suggests nothing."""
    await seed(services, [Case(confidence=None)] * 250, at=history() - timedelta(hours=10))
    report = await stats(services)
    assert report.calibration[0].why_none == "no decided case of this action carried a confidence"
    assert report.suggestions == []


async def test_a_lower_target_is_met_by_fewer_cases(
    history: ManualClock, services: Services
) -> None:
    """With calibration_target 0.9, fifty approvals without a miss support a threshold."""
    await seed(services, [Case(confidence=0.95)] * 50, at=history() - timedelta(hours=10))
    (send_reply,) = (await stats(services, calibration_target=0.9)).calibration
    assert send_reply.threshold is not None


async def test_stop_topic_cases_are_not_counted_as_spared(
    history: ManualClock, services: Services
) -> None:
    """A confident case that matched a stop topic would still be asked about."""
    cases = earned_trust() + [Case(confidence=0.99, stop_topic="refund")] * 10
    await seed(services, cases, at=history() - timedelta(hours=10))
    (send_reply,) = (await stats(services)).calibration
    assert send_reply.threshold is not None
    assert (send_reply.threshold.saved, send_reply.threshold.handoffs) == (300, 350)


async def test_the_suggestion_shows_the_exact_yaml_change(
    history: ManualClock, services: Services
) -> None:
    """Accepting is a YAML change shown to a person: send_reply leaves require_approval."""
    await seed(services, earned_trust(), at=history() - timedelta(hours=10))
    (suggestion,) = (await stats(services)).suggestions
    assert suggestion.describe().startswith("`send_reply`: 300 of 300 approved unchanged")
    assert "would have saved 88% of reviews (300 of 340)" in suggestion.describe()
    removed = [line for line in suggestion.yaml_diff.splitlines() if line.startswith("-  ")]
    added = [line for line in suggestion.yaml_diff.splitlines() if line.startswith("+  ")]
    assert any("mode: review" in line for line in removed)
    assert any("mode: auto" in line for line in added)
    assert any("require_approval: [tag, route, refund]" in line for line in added)
    assert any("confidence_threshold: 0.9" in line for line in added)


async def test_the_suggested_change_is_a_valid_brief(
    history: ManualClock, services: Services
) -> None:
    """Applying the diff's new lines to the brief gives a workflows.yml that validates."""
    await seed(services, earned_trust(), at=history() - timedelta(hours=10))
    (suggestion,) = (await stats(services)).suggestions
    after = "\n".join(
        line[1:]
        for line in suggestion.yaml_diff.splitlines()[2:]
        if not line.startswith(("-", "@"))
    )
    changed = yaml.safe_load(after)["workflows"]["ticket-triage"]
    data = copy.deepcopy(TEST_WORKFLOWS)
    data["workflows"]["ticket-triage"].update(changed)
    assert parse_config(data).workflows["ticket-triage"].mode == "auto"


async def test_an_action_already_on_a_threshold_gets_no_suggestion(
    history: ManualClock, services: Services
) -> None:
    """In auto mode an action outside require_approval is not always asked: nothing to graduate."""
    cases = [Case(action="tag", confidence=c.confidence) for c in earned_trust()]
    await seed(services, cases, at=history() - timedelta(hours=10))
    assert (await stats(services, mode="auto")).suggestions == []


async def test_shadow_agreement_counts_approvals_as_agreeing(
    history: ManualClock, services: Services
) -> None:
    """Shadow cases approved unchanged agree, edited or rejected ones disagree, per band."""
    cases = [Case(shadow=True, confidence=0.95)] * 3
    cases += [Case(shadow=True, confidence=0.55, outcome="rejected", category="wrong")]
    cases += [Case(shadow=True, confidence=None, outcome="edited")]
    await seed(services, cases, at=history() - timedelta(hours=10))
    (agreement,) = (await stats(services)).shadow
    assert (agreement.overall.part, agreement.overall.n) == (3, 5)
    assert {b.low: (b.rate.part, b.rate.n) for b in agreement.bands} == {0.5: (0, 1), 0.9: (3, 3)}
    assert (agreement.missing_confidence.part, agreement.missing_confidence.n) == (0, 1)


async def test_too_many_edits_are_not_called_thin_evidence(
    history: ManualClock, services: Services
) -> None:
    """With plenty of cases but one in five edited, the reason is the edits, not the sample."""
    cases = [Case(confidence=0.9)] * 80 + [Case(confidence=0.9, outcome="edited")] * 20
    await seed(services, cases, at=history() - timedelta(hours=10))
    (send_reply,) = (await stats(services)).calibration
    assert send_reply.why_none is not None
    assert "at most 80% were approved unchanged" in send_reply.why_none
