"""``handrail stats`` over 1M recorded gate questions, SQLite and PostgreSQL, beside count(*).

Run: .venv/bin/python bench/stats.py [--rows 1000000] [--stores sqlite,postgres]

For each store the script creates a fresh database and loads it fast (driver-level
executemany on SQLite, ``COPY`` on PostgreSQL), outside the timed part: ``--rows`` gate
questions over the last 30 days (two per run, four actions, three prompt versions), 40%
of them handed to a person with a confidence and a draft; 90% of those decided by one of
five reviewers (approved, edited with a diff, rejected with a category), the rest pending
or expired. It loads a tenth of the rows first and then all of them, so the memory column
shows whether the stats grow with the data.

Each measurement runs in a fresh process (so one store's cache or heap never flatters the
next): after connecting, it times ``build_stats`` over 30 days split by action - all of
``handrail stats WORKFLOW --by action`` but printing - and, as the baselines, a plain
``SELECT count(*)`` over the same gate questions, handoffs and decisions, and the same
report grouped from the rows alone (as before the per-day tallies; it checks both give
the same figures), and the report split by reviewer and by prompt version; then the charts
of the same window (reading their data, and drawing the three PNGs; importing matplotlib,
once per process, is shown apart). It prints wall times
and the process's peak RSS before and after. A figure, not a test: it never fails
on time.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import (  # noqa: E402
    bulk_load,
    fresh_process_bench,
    measure_in_fresh_process,
    own_peak_rss_mb,
    scratch_store,
)

WORKFLOW = "ticket-triage"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIONS = ("send_reply", "tag", "route", "refund")
VERSIONS = ("v1", "v2", "v3")
REVIEWERS = ("U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0ERIN")
DRAFT = "Hi Sam,\nthanks for writing in. Your order A-{n} ships today; tracking follows.\nBest"
DIFF = "--- draft\n+++ sent\n@@ -1 +1 @@\n-Hi Sam,\n+Hello Sam,"
BRIEF = {
    "workflows": {
        WORKFLOW: {
            "reviewers": list(REVIEWERS),
            "admins": ["U0OWNER"],
            "review_channel": "C0REVIEW",
            "mode": "review",
            "allowed_actions": list(ACTIONS),
            "minutes_per_case": 4,
        }
    }
}
RUN_COLUMNS = ("id", "workflow", "status", "prompt_version", "started_at", "event_count")
EVENT_COLUMNS = ("run_id", "workflow", "seq", "type", "name", "status", "recorded_at")
HANDOFF_COLUMNS = ("id", "run_id", "workflow", "kind", "status", "action", "summary", "draft",
                   "confidence", "stop_topic", "shadow", "created_at", "decided_at")  # fmt: skip
DECISION_COLUMNS = ("handoff_id", "run_id", "outcome", "reviewer", "diff", "reason", "category",
                    "decided_at", "latency_ms", "released_at")  # fmt: skip
BATCH = 50_000


def batches(rows: int, seed: int) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
    """(runs, events, handoffs, decisions) in batches of ``BATCH`` gate questions."""
    rng = random.Random(seed)
    span = timedelta(days=30).total_seconds()
    for start in range(0, rows, BATCH):
        runs: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        handoffs: list[tuple[Any, ...]] = []
        decisions: list[tuple[Any, ...]] = []
        for n in range(start, min(start + BATCH, rows)):
            asked = NOW - timedelta(seconds=span * (1 - n / rows) + 1)
            run_id = f"run-{seed}-{n // 2}"
            if n % 2 == 0:
                version = VERSIONS[min(n * len(VERSIONS) // rows, len(VERSIONS) - 1)]
                runs.append((run_id, WORKFLOW, "succeeded", version, asked, 2))
            action = ACTIONS[rng.randrange(len(ACTIONS))]
            handed = rng.random() < 0.4
            events.append(
                (
                    run_id,
                    WORKFLOW,
                    n % 2 + 1,
                    "gate",
                    action,
                    "review" if handed else "allow",
                    asked,
                )
            )
            if not handed:
                continue
            handoff_id = f"hof-{seed}-{n}"
            roll = rng.random()
            outcome = (
                "approved" if roll < 0.72 else "edited" if roll < 0.82 else "rejected"
                if roll < 0.9 else "pending" if roll < 0.95 else "expired"
            )  # fmt: skip
            latency = int(rng.lognormvariate(11, 1))
            decided = asked + timedelta(milliseconds=latency)
            confidence = None if rng.random() < 0.05 else round(rng.betavariate(8, 2), 3)
            stop = "refund" if action == "refund" and rng.random() < 0.3 else None
            handoffs.append(
                (handoff_id, run_id, WORKFLOW, "approval_required", outcome, action, "seeded",
                 DRAFT.format(n=n), confidence, stop, False, asked,
                 None if outcome == "pending" else decided)
            )  # fmt: skip
            if outcome in ("pending", "expired"):
                continue
            decisions.append(
                (handoff_id, run_id, outcome, REVIEWERS[rng.randrange(len(REVIEWERS))],
                 DIFF if outcome == "edited" else None,
                 "wrong order" if outcome == "rejected" else None,
                 "wrong_facts" if outcome == "rejected" else None, decided, latency, decided)
            )  # fmt: skip
        yield runs, events, handoffs, decisions


TABLES = (
    ("runs", RUN_COLUMNS),
    ("events", EVENT_COLUMNS),
    ("handoffs", HANDOFF_COLUMNS),
    ("decisions", DECISION_COLUMNS),
)


async def load(url: str, schema: str | None, rows: int) -> float:
    """Migrate and fill a store; returns the seconds it took (not part of any figure)."""
    return await bulk_load(
        url, schema, workflows=[WORKFLOW], now=NOW, tables=TABLES, batches=batches(rows, seed=1)
    )


async def measure(url: str, schema: str | None) -> dict[str, float]:
    """In this fresh process: time the stats and the count(*) baseline, and the peak RSS."""
    from sqlalchemy import text

    from store.engine import create_engine, create_read_sessions
    from store.repositories import stats as repo
    from workflows.config.brief import parse_config
    from workflows.stats.report import StatsReport, build_stats

    engine = create_engine(url, schema=schema)
    readers = create_read_sessions(engine)
    config = parse_config(BRIEF)
    async with readers() as db:
        await db.execute(text("SELECT 1"))
    figures: dict[str, float] = {"rss_before_mb": own_peak_rss_mb()}
    started = time.perf_counter()
    async with readers() as db:
        counted = 0
        for table, where in (
            ("events", f"workflow = '{WORKFLOW}' AND type = 'gate'"),
            ("handoffs", f"workflow = '{WORKFLOW}'"),
            ("decisions", "1 = 1"),
        ):
            sql = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608 - fixed names
            counted += int((await db.execute(text(sql))).scalar_one())
    figures["count_s"] = time.perf_counter() - started
    figures["rss_after_count_mb"] = own_peak_rss_mb()

    async def timed_report(split: str) -> tuple[StatsReport, float]:
        started = time.perf_counter()
        async with readers() as db:
            report = await build_stats(
                db, config=config, workflow=WORKFLOW, since=timedelta(days=30), split=split,
                now=NOW,
            )  # fmt: skip
        return report, time.perf_counter() - started

    report, figures["stats_s"] = await timed_report("action")
    figures["rss_after_stats_mb"] = own_peak_rss_mb()
    # The same report grouped from the rows alone, as before the per-day tallies.
    tallied = repo._tallied
    repo._tallied = lambda window: (None, [window])
    try:
        from_rows, figures["stats_rows_s"] = await timed_report("action")
    finally:
        repo._tallied = tallied
    figures["same_figures"] = float(from_rows.to_json() == report.to_json())
    for split in ("reviewer", "prompt_version"):
        _, figures[f"stats_{split}_s"] = await timed_report(split)
    started = time.perf_counter()
    from workflows.stats.charts.data import load_chart_data
    from workflows.stats.charts.render import render_charts

    figures["chart_import_s"] = time.perf_counter() - started
    started = time.perf_counter()
    async with readers() as db:
        data = await load_chart_data(db, report=report)
    figures["chart_data_s"] = time.perf_counter() - started
    started = time.perf_counter()
    render_charts(data, target=report.target)
    figures["chart_draw_s"] = time.perf_counter() - started
    figures["questions"] = report.overall.questions
    figures["handoffs"] = report.overall.handoffs
    figures["counted"] = counted
    await engine.dispose()
    return figures


async def run_store(store: str, rows: int) -> None:
    for size in (rows // 10, rows):
        async with scratch_store(store, name="stats") as (url, schema):
            seconds = await load(url, schema, size)
            f = measure_in_fresh_process(__file__, url, schema, timeout=600)
        print(
            f"{store:<9} {size:>9,} questions ({int(f['handoffs']):>7,} handoffs; loaded in "
            f"{seconds:5.1f} s) | stats {f['stats_s'] * 1000:7.0f} ms | from rows alone "
            f"{f['stats_rows_s'] * 1000:7.0f} ms (same figures: "
            f"{'yes' if f['same_figures'] else 'NO'}) | count(*) "
            f"{f['count_s'] * 1000:6.0f} ms | ratio {f['stats_s'] / f['count_s']:5.1f}x | "
            f"charts: data {f['chart_data_s'] * 1000:6.0f} ms, "
            f"drawn {f['chart_draw_s'] * 1000:5.0f} ms "
            f"(matplotlib import {f['chart_import_s'] * 1000:4.0f} ms, once) | "
            f"peak RSS {f['rss_before_mb']:5.0f} MB before, {f['rss_after_stats_mb']:5.0f} MB "
            "after stats",
            flush=True,
        )
        print(
            f"{'':<9} {'':>9}   the other splits: --by reviewer "
            f"{f['stats_reviewer_s'] * 1000:5.0f} ms, --by prompt_version "
            f"{f['stats_prompt_version_s'] * 1000:5.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    fresh_process_bench(
        __doc__.splitlines()[0],
        title=lambda rows: (
            f"handrail stats --since 30d --by action over gate questions, {rows:,} at most"
        ),
        measure=measure,
        run_store=run_store,
    )
