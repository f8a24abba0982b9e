"""The per-day tallies give exactly the figures grouping the rows gives, whatever happened.

Each test writes review history through the real store (SQLite file and PostgreSQL schema),
changes it the ways the product does (decisions, first looks, expiry, erasure, a run
deleted with everything under it, a folded tally), and compares ``handrail stats`` and the
per-day outcomes read through the tallies with the same figures read from the rows alone.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update

from bot.jobs import fold_tallies
from bot.services import Services
from store.models import Decision, Handoff, Run, TallyCases, TallyGateVerdicts
from store.repositories import erasure, tallies
from store.repositories import stats as repo
from tests.stats_harness import Case, seed
from workflows.stats.charts.data import load_chart_data
from workflows.stats.report import build_stats
from workflows.stats.reviewers import READING_SPEED

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIONS = ("send_reply", "tag", "refund", None)
OUTCOMES = ("approved", "approved", "edited", "rejected", "pending", "expired", None)


@pytest.fixture
async def started(client: Any, services: Services) -> Services:
    """The app has started, so the workflow rows the seeds point at exist."""
    return services


def _random_cases(rng: random.Random, count: int) -> list[Case]:
    return [
        Case(
            action=rng.choice(ACTIONS) or "send_reply",
            confidence=None if rng.random() < 0.1 else round(rng.random(), 3),
            outcome=rng.choice(OUTCOMES),
            reviewer=rng.choice(("U0ALICE", "U0BOB", "U0CAROL")),
            latency_s=rng.choice((0.5, 2, 45, 90, 900, 4000)),
            shadow=rng.random() < 0.2,
            draft=rng.choice((None, "ok", "Hi Sam, " * rng.randrange(1, 40))),
            prompt_version=rng.choice(("v1", "v2", None)),
            stop_topic="refund" if rng.random() < 0.1 else None,
            category="wrong_facts" if rng.random() < 0.5 else None,
        )
        for _ in range(count)
    ]


async def _seed_days(services: Services, rng: random.Random) -> None:
    """Five days of cases, each batch at a random time of its day (so some cross midnight)."""
    for day in range(5, -1, -1):
        at = NOW - timedelta(days=day, seconds=rng.randrange(0, 86_000))
        await seed(services, _random_cases(rng, 25), at=at)


async def _report(services: Services, split: str | None, since: timedelta) -> dict[str, Any]:
    async with services.sessions() as db:
        report = await build_stats(
            db, config=services.config, workflow="ticket-triage", since=since, split=split, now=NOW
        )
        chart = await load_chart_data(db, report=report)
    return {"report": report.to_json(), "days": chart.days, "review": report.review_buckets}


async def _both_ways(
    services: Services, monkeypatch: pytest.MonkeyPatch, split: str | None, since: timedelta
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures through the tallies, then from the rows alone."""
    tallied = await _report(services, split, since)
    with monkeypatch.context() as patch:
        patch.setattr(repo, "_tallied", lambda window: (None, [window]))
        raw = await _report(services, split, since)
    return tallied, raw


WINDOWS = (timedelta(days=30), timedelta(days=3, hours=5), timedelta(hours=7), timedelta(days=2))


async def _assert_same(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    for since in WINDOWS:
        for split in (None, "action", "reviewer", "prompt_version"):
            tallied, raw = await _both_ways(services, monkeypatch, split, since)
            assert tallied == raw, (split, since)


async def _mutate(services: Services, rng: random.Random) -> None:
    """What happens to history after it is written: decisions, looks, expiry, erasure."""
    async with services.sessions() as db, db.begin():
        pending = (
            (await db.execute(select(Handoff).where(Handoff.status == "pending"))).scalars().all()
        )
        for handoff in pending[:6]:
            await repo.set_first_look(
                db, handoff_id=handoff.id, now=handoff.created_at + timedelta(seconds=20)
            )
        for handoff in pending[6:12]:
            decided = handoff.created_at + timedelta(seconds=rng.choice((1, 30, 700)))
            outcome = rng.choice(("approved", "edited", "rejected"))
            await db.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id)
                .values(status=outcome, decided_at=decided)
            )
            db.add(
                Decision(
                    handoff_id=handoff.id,
                    run_id=handoff.run_id,
                    outcome=outcome,
                    reviewer="U0DAN",
                    decided_at=decided,
                    latency_ms=1000,
                )
            )
        for handoff in pending[12:16]:
            await db.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id)
                .values(status="expired", decided_at=handoff.created_at + timedelta(hours=2))
            )
        approved = (
            (await db.execute(select(Handoff.id).where(Handoff.status == "approved").limit(3)))
            .scalars()
            .all()
        )
        await db.execute(update(Handoff).where(Handoff.id.in_(approved)).values(draft="x" * 400))
    async with services.sessions() as db, db.begin():
        runs = (await db.execute(select(Handoff.run_id).limit(10))).scalars().all()
        # A run's prompt version corrected, a decision moved to another reviewer, one
        # decision deleted on its own (its handoff stays, decided by nobody now).
        await db.execute(update(Run).where(Run.id == runs[8]).values(prompt_version="v9"))
        decided = (await db.execute(select(Decision.id).limit(2))).scalars().all()
        await db.execute(update(Decision).where(Decision.id == decided[0]).values(reviewer="U0EVE"))
        await db.execute(delete(Decision).where(Decision.id == decided[1]))
        await erasure.delete_runs(db, list(runs[:4]))
        # A run deleted on its own: its events, handoffs and decisions go by cascade.
        await db.execute(
            text("DELETE FROM runs WHERE id IN (:a, :b)"), {"a": runs[4], "b": runs[5]}
        )


async def test_tallies_give_the_figures_the_rows_give(
    started: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = started
    rng = random.Random(13)
    await _seed_days(services, rng)
    await _assert_same(services, monkeypatch)

    await _mutate(services, rng)
    await _assert_same(services, monkeypatch)

    folder = tallies.TallyFolder()
    async with services.sessions() as db, db.begin():
        assert await folder.fold(db) > 0
    await _assert_same(services, monkeypatch)

    # Deltas after a fold are folded on the next one, and the figures never move.
    await seed(services, _random_cases(rng, 20), at=NOW - timedelta(hours=3))
    await _mutate(services, rng)
    async with services.sessions() as db, db.begin():
        await folder.fold(db)
        rows = await db.scalar(select(func.count()).select_from(TallyCases))
        keys = await db.scalar(
            select(func.count()).select_from(
                select(
                    TallyCases.workflow,
                    TallyCases.day,
                    TallyCases.action,
                    TallyCases.prompt_version,
                    TallyCases.kind,
                    TallyCases.status,
                    TallyCases.shadow,
                    TallyCases.centile,
                    TallyCases.stop_topic,
                )
                .distinct()
                .subquery()
            )
        )
    assert rows == keys  # one row per key once folded
    await _assert_same(services, monkeypatch)


async def test_a_deleted_gate_step_leaves_the_tally(started: Services) -> None:
    services = started
    await seed(services, [Case(outcome=None), Case(outcome="approved")], at=NOW - timedelta(days=2))

    async def _questions() -> int:
        async with services.sessions() as db:
            return int(await db.scalar(select(func.coalesce(func.sum(TallyGateVerdicts.n), 0))))

    assert await _questions() == 2
    async with services.sessions() as db, db.begin():
        await db.execute(text("DELETE FROM events"))
    assert await _questions() == 0


def test_the_triggers_count_fast_approvals_at_the_reading_speed_the_stats_use() -> None:
    assert READING_SPEED == repo.TALLY_SPEED


@pytest.mark.parametrize(
    ("start", "end", "days", "edges"),
    [
        ("2026-03-01T00:00", "2026-03-03T00:00", ("2026-03-01", "2026-03-02"), 0),
        ("2026-03-01T09:00", "2026-03-03T09:00", ("2026-03-02", "2026-03-02"), 2),
        ("2026-03-01T09:00", "2026-03-02T08:00", None, 1),
        ("2026-03-01T09:00", "2026-03-02T00:00", None, 1),
    ],
)
def test_a_window_splits_into_whole_days_and_edges(
    start: str, end: str, days: tuple[str, str] | None, edges: int
) -> None:
    found, rest = tallies.whole_days(
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
    )
    assert (None if found is None else (found.first, found.last)) == days
    assert len(rest) == edges


async def test_the_scheduled_fold_leaves_one_row_per_key(started: Services) -> None:
    services = started
    await seed(services, [Case(), Case(), Case(outcome="edited")], at=NOW - timedelta(days=1))
    async with services.sessions() as db, db.begin():
        await db.execute(update(Handoff).values(first_look_ms=5))  # each handoff moves once
    folder = tallies.TallyFolder()
    assert await fold_tallies(services, folder) > 0
    assert await fold_tallies(services, folder) == 0  # nothing new since
    async with services.sessions() as db:
        rows = (await db.execute(select(TallyCases.status, TallyCases.n))).all()
    assert sorted(rows) == [("approved", 2), ("edited", 1)]
