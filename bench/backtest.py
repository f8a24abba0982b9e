"""``handrail brief diff`` over 1M recorded gate questions, SQLite and PostgreSQL, beside count(*).

Run: .venv/bin/python bench/backtest.py [--rows 1000000] [--stores sqlite,postgres]

For each store the script creates a fresh database and loads it fast (driver-level
executemany on SQLite, ``COPY`` on PostgreSQL), outside the timed part: ``--rows`` gate
questions of one workflow over the last 14 days, two per run, four actions. 70% carry the
policy inputs the gate now keeps (action, confidence, redacted draft and summary, matched
stop topics, payload shape); 30% are older steps without them, whose reviews point at a
handoff, so the partial replay (an extra page query for handoffs) is in the figure too.
A fifth of the questions have a decision, for the review-time percentiles. It loads a
tenth of the rows first and then all of them, so the memory column shows whether the
backtest grows with the data.

Each measurement runs in a fresh process: after connecting, it times a plain
``SELECT count(*)`` over the same gate questions (the baseline), then ``run_backtest``
under a proposed brief (auto mode, a higher threshold, approval only for refunds, one new
stop topic) - all of ``handrail brief diff`` but printing. It prints wall times, the
per-question rate and the process's peak RSS before and after. A figure, not a test.
"""

from __future__ import annotations

import json
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
REVIEWERS = ("U0ALICE", "U0BOB", "U0CAROL")
DRAFT = "Hi Sam,\nthanks for writing in. Your order A-{n} ships today; tracking follows.\nBest"
CURRENT = {
    "reviewers": list(REVIEWERS),
    "admins": ["U0OWNER"],
    "review_channel": "C0REVIEW",
    "mode": "review",
    "allowed_actions": list(ACTIONS),
    "require_approval": ["send_reply", "refund"],
    "confidence_threshold": 0.8,
    "stop_topics": ["refund", "legal"],
}
PROPOSED = {
    **CURRENT,
    "mode": "auto",
    "require_approval": ["refund"],
    "confidence_threshold": 0.85,
    "stop_topics": ["refund", "legal", "chargeback"],
}
RUN_COLUMNS = ("id", "workflow", "status", "started_at", "event_count")
EVENT_COLUMNS = ("run_id", "workflow", "seq", "type", "name", "status", "input", "output",
                 "recorded_at")  # fmt: skip
HANDOFF_COLUMNS = ("id", "run_id", "workflow", "kind", "status", "action", "summary", "draft",
                   "confidence", "stop_topic", "shadow", "created_at", "decided_at")  # fmt: skip
DECISION_COLUMNS = ("handoff_id", "run_id", "outcome", "reviewer", "decided_at", "latency_ms",
                    "released_at")  # fmt: skip
TABLES = (
    ("runs", RUN_COLUMNS),
    ("events", EVENT_COLUMNS),
    ("handoffs", HANDOFF_COLUMNS),
    ("decisions", DECISION_COLUMNS),
)
BATCH = 50_000


def batches(rows: int, seed: int) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
    """(runs, events, handoffs, decisions) in batches of ``BATCH`` gate questions."""
    rng = random.Random(seed)
    span = timedelta(days=14).total_seconds()
    for start in range(0, rows, BATCH):
        runs: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        handoffs: list[tuple[Any, ...]] = []
        decisions: list[tuple[Any, ...]] = []
        for n in range(start, min(start + BATCH, rows)):
            asked = NOW - timedelta(seconds=span * (1 - n / rows) + 1)
            run_id = f"run-{seed}-{n // 2}"
            if n % 2 == 0:
                runs.append((run_id, WORKFLOW, "succeeded", asked, 2))
            action = ACTIONS[rng.randrange(len(ACTIONS))]
            confidence = round(rng.betavariate(8, 2), 3)
            draft = DRAFT.format(n=n) + (" Re: legal" if rng.random() < 0.02 else "")
            topics = ["legal"] if draft.endswith("legal") else []
            summary = "refund asked" if action == "refund" else "order question"
            review = action in ("send_reply", "refund") or confidence < 0.8 or bool(topics)
            handoff_id = f"hof-{seed}-{n}" if review else None
            complete = rng.random() < 0.7
            inputs = (
                json.dumps(
                    {"inputs": 1, "action": action, "confidence": confidence, "threshold": 0.8,
                     "draft": draft, "summary": summary,
                     "stop_topics": {"draft": topics,
                                     "summary": ["refund"] if action == "refund" else []},
                     "payload_shape": {"ticket": "number"}}
                )
                if complete
                else None
            )  # fmt: skip
            output = json.dumps(
                {"verdict": "review" if review else "allow", "reason": "seeded",
                 "handoff_id": handoff_id, "paused": False}
            )  # fmt: skip
            events.append(
                (run_id, WORKFLOW, n % 2 + 1, "gate", action, "review" if review else "allow",
                 inputs, output, asked)
            )  # fmt: skip
            if handoff_id is None:
                continue
            decided = rng.random() < 0.5
            latency = int(rng.lognormvariate(11, 1))
            at = asked + timedelta(milliseconds=latency)
            handoffs.append(
                (handoff_id, run_id, WORKFLOW, "approval_required",
                 "approved" if decided else "pending", action, summary, draft, confidence,
                 topics[0] if topics else None, False, asked, at if decided else None)
            )  # fmt: skip
            if decided:
                decisions.append(
                    (handoff_id, run_id, "approved", REVIEWERS[n % len(REVIEWERS)], at, latency,
                     at)
                )  # fmt: skip
        yield runs, events, handoffs, decisions


async def load(url: str, schema: str | None, rows: int) -> float:
    """Migrate and fill a store; returns the seconds it took (not part of any figure)."""
    return await bulk_load(
        url, schema, workflows=[WORKFLOW], now=NOW, tables=TABLES, batches=batches(rows, seed=1)
    )


async def measure(url: str, schema: str | None) -> dict[str, float]:
    """In this fresh process: time count(*) and the backtest, and the peak RSS."""
    from sqlalchemy import text

    from store.engine import create_engine, create_read_sessions
    from workflows.backtest.scan import run_backtest
    from workflows.config.brief import parse_config

    engine = create_engine(url, schema=schema)
    readers = create_read_sessions(engine)
    current = parse_config({"workflows": {WORKFLOW: CURRENT}})
    proposed = parse_config({"workflows": {WORKFLOW: PROPOSED}})
    async with readers() as db:
        await db.execute(text("SELECT 1"))
    figures: dict[str, float] = {"rss_before_mb": own_peak_rss_mb()}
    started = time.perf_counter()
    async with readers() as db:
        sql = f"SELECT count(*) FROM events WHERE workflow = '{WORKFLOW}' AND type = 'gate'"  # noqa: S608 - fixed names
        figures["counted"] = int((await db.execute(text(sql))).scalar_one())
    figures["count_s"] = time.perf_counter() - started
    figures["rss_after_count_mb"] = own_peak_rss_mb()
    started = time.perf_counter()
    async with readers() as db:
        report = await run_backtest(
            db,
            current=current,
            proposed=proposed,
            brief="proposed.yml",
            workflows=[WORKFLOW],
            since=timedelta(days=14),
            now=NOW,
        )
    figures["backtest_s"] = time.perf_counter() - started
    figures["rss_after_backtest_mb"] = own_peak_rss_mb()
    figures["questions"] = report.questions
    figures["partial"] = report.partial
    figures["changed"] = sum(t.count for t in report.workflows[0].changed)
    await engine.dispose()
    return figures


async def run_store(store: str, rows: int) -> None:
    for size in (rows // 10, rows):
        async with scratch_store(store, name="backtest") as (url, schema):
            seconds = await load(url, schema, size)
            f = measure_in_fresh_process(__file__, url, schema, timeout=900)
        rate = f["questions"] / f["backtest_s"] if f["backtest_s"] else 0.0
        print(
            f"{store:<9} {size:>9,} questions ({int(f['partial']):>7,} partial, "
            f"{int(f['changed']):>7,} changed; loaded in {seconds:5.1f} s) | backtest "
            f"{f['backtest_s']:6.1f} s ({rate:8,.0f} questions/s) | count(*) "
            f"{f['count_s'] * 1000:6.0f} ms | peak RSS {f['rss_before_mb']:5.0f} MB before, "
            f"{f['rss_after_backtest_mb']:5.0f} MB after backtest",
            flush=True,
        )


if __name__ == "__main__":
    fresh_process_bench(
        __doc__.splitlines()[0],
        title=lambda rows: f"handrail brief diff --since 14d over gate questions, {rows:,} at most",
        measure=measure,
        run_store=run_store,
    )
