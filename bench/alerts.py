"""One alert evaluation tick with 10k and with 1M events in history, SQLite and PostgreSQL.

Run: .venv/bin/python bench/alerts.py [--stores sqlite,postgres] [--ticks 25] [--rate 1]

For each store and size the script creates a fresh database and loads it fast (driver-level
executemany on SQLite, ``COPY`` on PostgreSQL): four workflows whose automations report
steps at a steady ``--rate`` events per second in total, ending now, so 10k events are the
last ~3 hours and 1M events the last ~12 days. The mix is realistic: tool and model calls
with durations and tokens, two prompt versions, about 3% failures spread over a dozen
error texts, and in the last fifteen minutes one workflow failing repeatedly (so the tick
has open alerts to count, escalate and follow). Then it runs ``evaluate_alerts`` - the job
the scheduler runs every 30 s - once to open the alerts, and times ``--ticks`` more, 30 s
apart on the clock. It prints the p50 (and p95) per store and size side by side, the growth
from 10k to 1M, and the plan of the repeated-error query (it must search the
``(workflow, recorded_at)`` index). A figure, not a test: it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import (  # noqa: E402
    POSTGRES_URL,
    bulk_load,
    percentile,
    postgres_schema,
    print_growth,
    sqlite_value,
)

from store.engine import create_engine, create_read_sessions, create_sessions  # noqa: E402
from workflows.alerts.tick import evaluate_alerts  # noqa: E402
from workflows.config.brief import parse_config  # noqa: E402

WORKFLOWS = ("ticket-triage", "invoice-extraction", "lead-sorting", "draft-replies")
BRIEF = {"alert_channel": "C0ONCALL", "oncall": ["U0ALICE"], "admins": ["U0OWNER"],
         "reviewers": ["U0ALICE"], "review_channel": "C0REVIEW"}  # fmt: skip
CONFIG = parse_config({"workflows": {name: BRIEF for name in WORKFLOWS}})
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEPS_PER_RUN = 10
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
ERRORS = [
    "timeout after {n} s from order_lookup",
    "HTTP 502 from crm_update for account {n}",
    "model returned invalid JSON at position {n}",
    "permission denied for mailbox {n}@example.com",
    "rate limited by carrier API, retry after {n} s",
    "invoice 'INV-{n}' has no total",
    "KeyError: 'due_date' in extract step {n}",
    "connection reset by peer while calling classify ({n})",
    "draft longer than {n} characters",
    "unknown currency code in invoice {n}",
    "tool crm_update returned 409 conflict for lead {n}",
    "order {n} not found",
]
RUN_COLUMNS = ("id", "workflow", "status", "prompt_version", "model", "started_at",
               "ended_at", "event_count")  # fmt: skip
EVENT_COLUMNS = ("run_id", "workflow", "seq", "type", "name", "status", "duration_ms",
                 "input", "output", "error", "model", "prompt_version", "tokens_in",
                 "tokens_out", "recorded_at")  # fmt: skip


def event_row(rng: random.Random, run_id: str, workflow: str, seq: int, when: datetime,
              version: str, *, burst: bool) -> tuple[Any, ...]:  # fmt: skip
    """One step as stored; in the burst, the same timeout again and again."""
    kind = rng.choice(("tool", "tool", "model", "model", "prompt", "action"))
    status, error = "ok", None
    if burst and kind == "tool" and rng.random() < 0.5:
        status, error = "error", f"timeout after 30 s for invoice {rng.randint(1, 9999)}"
    elif rng.random() < 0.03:
        status = "error"
        error = rng.choice(ERRORS).format(n=rng.randint(1, 99_999))
    calls = kind in ("tool", "model")
    return (
        run_id,
        workflow,
        seq,
        kind,
        rng.choice(("order_lookup", "classify", "draft_reply", "crm_update")),
        status,
        round(rng.lognormvariate(5.5, 0.8), 1) if calls else None,
        orjson.dumps({"ticket": seq, "text": "Where is my parcel?"}).decode(),
        orjson.dumps({"label": "shipping", "score": 0.91}).decode() if error is None else None,
        error,
        "gpt-4o-mini" if kind == "model" else None,
        version if kind == "model" else None,
        rng.randint(800, 1200) if kind == "model" else None,
        rng.randint(100, 300) if kind == "model" else None,
        when,
    )


def generate(events: int, rate: float, seed: int = 7) -> Iterator[tuple[list[Any], list[Any]]]:
    """Runs and their steps, oldest first, ``rate`` events per second up to ``NOW``.

    Each run's randomness is seeded by its distance from ``NOW``, so the recent window -
    all a tick reads - holds the same steps whatever the size of the history.
    """
    runs = events // STEPS_PER_RUN
    span = timedelta(seconds=events / rate)
    start = NOW - span
    chunk = 5_000
    for first in range(0, runs, chunk):
        run_rows: list[Any] = []
        event_rows: list[Any] = []
        for index in range(first, min(first + chunk, runs)):
            rng = random.Random(seed * 1_000_003 + runs - index)
            workflow = WORKFLOWS[(runs - index) % len(WORKFLOWS)]
            run_id = f"run_{index:08d}_{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}"
            when = start + span * (index / runs)
            version = "v7" if when > NOW - timedelta(days=3) else "v6"
            burst = workflow == "ticket-triage" and when > NOW - timedelta(minutes=15)
            run_rows.append((run_id, workflow, "succeeded", version, "gpt-4o-mini", when,
                             when + timedelta(seconds=8), STEPS_PER_RUN))  # fmt: skip
            step = timedelta(seconds=1 / rate)
            event_rows.extend(
                event_row(
                    rng, run_id, workflow, seq, min(when + step * seq, NOW), version, burst=burst
                )
                for seq in range(1, STEPS_PER_RUN + 1)
            )
        yield run_rows, event_rows


async def load(url: str, schema: str | None, events: int, rate: float) -> float:
    """Migrate and fill the store; returns the seconds it took."""
    return await bulk_load(
        url,
        schema,
        workflows=WORKFLOWS,
        now=NOW,
        batches=generate(events, rate),
        tables=(("runs", RUN_COLUMNS), ("events", EVENT_COLUMNS)),
    )


async def plan(url: str, schema: str | None) -> str:
    """How the database finds the failed steps of one workflow's last fifteen minutes."""
    engine = create_engine(url, schema=schema)
    since = NOW - timedelta(minutes=15)
    stamp = sqlite_value(since) if url.startswith("sqlite") else since.isoformat()
    # Constants of this script, not input.
    query = (
        "SELECT error, name, run_id, recorded_at FROM events "  # noqa: S608
        f"WHERE workflow = 'ticket-triage' AND recorded_at >= '{stamp}' "
        "AND (type = 'error' OR status IN ('error', 'failed') OR error IS NOT NULL) "
        "ORDER BY recorded_at DESC, id DESC LIMIT 2000"
    )
    prefix = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
    async with engine.connect() as connection:
        rows = (await connection.exec_driver_sql(prefix + query)).all()
    await engine.dispose()
    lines = [str(row[-1]).strip() for row in rows]
    return " / ".join(
        line for line in lines if "Index" in line or "SEARCH" in line or "SCAN" in line
    )


async def time_ticks(url: str, schema: str | None, ticks: int) -> tuple[list[float], str]:
    """Milliseconds per tick, after one tick that opens the alerts; and what it opened."""
    engine = create_engine(url, schema=schema)
    sessions, readers = create_sessions(engine), create_read_sessions(engine)
    now = NOW
    first = await evaluate_alerts(sessions=sessions, readers=readers, config=CONFIG, now=now)
    opened = f"{len(first.opened)} alert(s) opened by the first tick"
    timings = []
    for _ in range(ticks):
        now += timedelta(seconds=30)
        started = time.perf_counter()
        await evaluate_alerts(sessions=sessions, readers=readers, config=CONFIG, now=now)
        timings.append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    return timings, opened


async def bench_store(
    store: str, sizes: list[str], ticks: int, rate: float
) -> dict[str, tuple[float, float]]:
    results: dict[str, tuple[float, float]] = {}
    for size in sizes:
        events = SIZES[size]
        workdir = Path(tempfile.mkdtemp(prefix=f"handrail-alerts-{store}-"))
        schema = None
        if store == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'handrail.db'}"
        else:
            url = POSTGRES_URL
            schema = f"handrail_alerts_{uuid.uuid4().hex[:8]}"
            await postgres_schema(schema, create=True)
        try:
            seconds = await load(url, schema, events, rate)
            how = await plan(url, schema)
            timings, opened = await time_ticks(url, schema, ticks)
        finally:
            if schema:
                await postgres_schema(schema, create=False)
            shutil.rmtree(workdir, ignore_errors=True)
        p50, p95 = statistics.median(timings), percentile(timings, 95)
        results[size] = (p50, p95)
        span = timedelta(seconds=round(events / rate))
        print(
            f"  {store:<9} {size:>4} events (history {span}) loaded in {seconds:5.1f} s; "
            f"tick p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  [{ticks} ticks; {opened}]\n"
            f"            plan: {how}",
            flush=True,
        )
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--ticks", type=int, default=25)
    parser.add_argument("--rate", type=float, default=1.0, help="events per second, all workflows")
    parser.add_argument("--sizes", default="10k,1M", help="two of: 10k, 100k, 1M")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    logging.basicConfig(level=logging.ERROR)
    print(
        f"alert evaluation tick: {len(WORKFLOWS)} workflows, every rule, "
        f"{args.rate:g} event(s)/s of history"
    )
    table = {
        store: await bench_store(store, sizes, args.ticks, args.rate)
        for store in args.stores.split(",")
    }
    print_growth(table, sizes, by="p50")


if __name__ == "__main__":
    asyncio.run(main())
