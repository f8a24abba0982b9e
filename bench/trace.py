"""``/trace`` latency: a 200-step run in a store of 10k events and in one of 1M events.

Run: .venv/bin/python bench/trace.py [--stores sqlite,postgres] [--samples 200]

For each store and size the script creates a fresh database, loads it fast (SQLAlchemy
Core executemany on SQLite, ``COPY`` on PostgreSQL): 1k runs / 10k events, then 100k runs /
1M events, one of the runs being the traced 200-step run (tool calls, model calls, errors,
gates, a handoff and its decision). It starts a real ``handrail serve`` process with the
Slack emulator (in this process) as Slack, and times the full command: the signed
``/trace RUN_ID`` request from the driver until the emulator has received the private
answer on the command's response_url. It prints p50 and p95 side by side, the growth
from 10k to 1M, and the plan of the step query (it must use the ``(run_id, seq)``
index). A figure, not a test: it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
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

import aiohttp
import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import (  # noqa: E402
    POSTGRES_URL,
    bulk_load,
    free_port,
    percentile,
    postgres_schema,
    print_growth,
)

from sandbox.driver import SlackDriver  # noqa: E402
from sandbox.emulator import SlackEmulator  # noqa: E402
from sandbox.workspace import DEFAULT_TOKEN  # noqa: E402
from store.engine import create_engine  # noqa: E402

SECRET = "bench-signing-secret"
WORKFLOW = "ticket-triage"
TARGET = "run_bench_target_200_steps"
TARGET_STEPS = 200
CONFIG_DATA = {
    "workflows": {
        WORKFLOW: {
            "reviewers": ["U0ALICE"],
            "admins": ["U0OWNER"],
            "review_channel": "C0REVIEW",
            "allowed_actions": ["send_reply"],
        }
    }
}
RUN_COLUMNS = ("id", "workflow", "status", "input_source", "prompt_version", "model",
               "started_at", "ended_at", "event_count")  # fmt: skip
EVENT_COLUMNS = ("run_id", "workflow", "seq", "type", "name", "status", "duration_ms",
                 "input", "output", "error", "model", "tokens_in", "tokens_out",
                 "recorded_at")  # fmt: skip
SIZES = {"10k": (1_000, 10_000), "1M": (100_000, 1_000_000), "100k": (10_000, 100_000)}


def event_row(rng: random.Random, run_id: str, seq: int, when: datetime) -> tuple[Any, ...]:
    """One step as stored: a tool or model call, sometimes a failure or a gate verdict."""
    kind = rng.choice(("tool", "tool", "model", "model", "prompt", "action"))
    error = None
    status = "ok"
    output: Any = {"label": rng.choice(("billing", "shipping", "refund")), "score": 0.91}
    if rng.random() < 0.05:
        status, output = "error", None
        error = "timeout after 30 s from order_lookup\n" + "  at order_lookup.fetch\n" * 8
    if rng.random() < 0.03:
        kind, status = "gate", "review"
        output = {"verdict": "review", "reason": "action 'send_reply' requires approval"}
    return (
        run_id,
        WORKFLOW,
        seq,
        kind,
        rng.choice(("order_lookup", "classify", "draft_reply", "crm_update")),
        status,
        round(rng.uniform(5, 900), 1),
        orjson.dumps({"ticket": 10_000 + seq, "text": "Where is my parcel?"}).decode(),
        orjson.dumps(output).decode() if output is not None else None,
        error,
        "gpt-4o-mini" if kind == "model" else None,
        rng.randint(100, 2000) if kind == "model" else None,
        rng.randint(10, 400) if kind == "model" else None,
        when,
    )


def generate(
    runs: int, events: int, seed: int = 7
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(runs, events) in chunks; the traced run is the first, with exactly 200 steps."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    per_run = (events - TARGET_STEPS) // (runs - 1)
    ids = [TARGET] + [
        f"run_{n:08d}_{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}" for n in range(runs - 1)
    ]
    chunk = 5_000
    for first in range(0, runs, chunk):
        run_rows, event_rows = [], []
        for index in range(first, min(first + chunk, runs)):
            run_id = ids[index]
            count = TARGET_STEPS if index == 0 else per_run
            when = start + timedelta(seconds=index * 5)
            run_rows.append(
                (
                    run_id,
                    WORKFLOW,
                    "succeeded",
                    f"ticket {index}",
                    "triage-v3",
                    "gpt-4o-mini",
                    when,
                    when + timedelta(seconds=40),
                    count,
                )
            )
            event_rows.extend(
                event_row(rng, run_id, seq, when + timedelta(milliseconds=seq * 100))
                for seq in range(1, count + 1)
            )
        yield run_rows, event_rows


async def load(url: str, schema: str | None, runs: int, events: int) -> float:
    """Migrate and fill the store; returns the seconds it took."""
    return await bulk_load(
        url,
        schema,
        workflows=[WORKFLOW],
        now=datetime.now(UTC),
        batches=generate(runs, events),
        tables=(("runs", RUN_COLUMNS), ("events", EVENT_COLUMNS)),
    )


async def plan(url: str, schema: str | None) -> str:
    """How the database reads the first page of the traced run's steps."""
    engine = create_engine(url, schema=schema)
    # TARGET is this script's constant, not input.
    query = f"SELECT * FROM events WHERE run_id = '{TARGET}' AND seq >= 0 ORDER BY seq LIMIT 41"  # noqa: S608
    prefix = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
    async with engine.connect() as connection:
        rows = (await connection.exec_driver_sql(prefix + query)).all()
    await engine.dispose()
    return " / ".join(str(row[-1]) for row in rows)


class _Arrivals(list[Any]):
    """The emulator's record of response_url posts, which also wakes the timer on arrival.

    The emulator has no hook for "an answer arrived"; swapping its list for this one gives
    the arrival time without polling (polling would steal the loop from the server).
    """

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def append(self, item: Any) -> None:
        super().append(item)
        self.arrived.set()


async def serving(env: dict[str, str], base: str) -> asyncio.subprocess.Process:
    """Start ``handrail serve`` (a real server process) and wait until it answers."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "serve",
        env=env,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return server
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    server.terminate()
    raise RuntimeError("handrail serve did not start")


async def time_trace(
    url: str, schema: str | None, workdir: Path, samples: int, warmup: int = 20
) -> list[float]:
    """Milliseconds from the signed /trace request to the answer arriving at Slack.

    The server is a separate ``handrail serve`` process, as in production; this process
    plays Slack (the emulator, and the driver that signs the command), so the two do not
    share an event loop. The scheduler is off so its ticks do not land in the figures.
    """
    config = workdir / "workflows.yml"
    config.write_text(yaml.safe_dump(CONFIG_DATA))
    async with SlackEmulator(post_rate=None) as emulator:
        port = free_port()
        env = {
            **os.environ,
            "HANDRAIL_DATABASE_URL": url,
            "HANDRAIL_CONFIG": str(config),
            "HANDRAIL_PORT": str(port),
            "HANDRAIL_SCHEDULER": "false",
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emulator.api_url,
            **({"HANDRAIL_DATABASE_SCHEMA": schema} if schema else {}),
        }
        base = f"http://127.0.0.1:{port}"
        server = await serving(env, base)
        timings = []
        arrivals = _Arrivals()
        emulator._responses = arrivals
        try:
            async with SlackDriver(base, SECRET, emulator) as driver:
                for index in range(warmup + samples):
                    arrivals.arrived.clear()
                    started = time.perf_counter()
                    sent = await driver.command(
                        "/trace", TARGET, user="U0ALICE", channel="C0REVIEW"
                    )
                    assert sent.status == 200, sent.text
                    await arrivals.arrived.wait()
                    elapsed = (time.perf_counter() - started) * 1000
                    answer = arrivals[-1]
                    assert answer.status == 200, answer.body
                    assert "Trace" in str(answer.body), answer.body
                    if index >= warmup:
                        timings.append(elapsed)
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 10)
    return timings


async def bench_store(store: str, samples: int, sizes: list[str]) -> dict[str, tuple[float, float]]:
    results: dict[str, tuple[float, float]] = {}
    for size in sizes:
        runs, events = SIZES[size]
        workdir = Path(tempfile.mkdtemp(prefix=f"handrail-trace-{store}-"))
        schema = None
        if store == "sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'handrail.db'}"
        else:
            url = POSTGRES_URL
            schema = f"handrail_trace_{uuid.uuid4().hex[:8]}"
            await postgres_schema(schema, create=True)
        try:
            seconds = await load(url, schema, runs, events)
            how = await plan(url, schema)
            timings = await time_trace(url, schema, workdir, samples)
        finally:
            if schema:
                await postgres_schema(schema, create=False)
            shutil.rmtree(workdir, ignore_errors=True)
        p50, p95 = statistics.median(timings), percentile(timings, 95)
        results[size] = (p50, p95)
        print(
            f"  {store:<9} {size:>4} events ({runs:,} runs) loaded in {seconds:5.1f} s; "
            f"/trace p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  [{samples} samples]\n"
            f"            plan: {how}",
            flush=True,
        )
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--sizes", default="10k,1M", help="two of: 10k, 100k, 1M")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    logging.basicConfig(level=logging.ERROR)
    print(f"/trace of a {TARGET_STEPS}-step run, full command (signed request to answer)")
    table = {
        store: await bench_store(store, args.samples, sizes) for store in args.stores.split(",")
    }
    print_growth(table, sizes, by="p95")


if __name__ == "__main__":
    asyncio.run(main())
