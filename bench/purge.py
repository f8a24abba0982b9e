"""The retention purge of 1M stored steps, and what it does to live ingest beside it.

Run: .venv/bin/python bench/purge.py [--events 1000000] [--stores sqlite,postgres]

For each store the script bulk-loads ``--events`` steps in runs of 100, all past
ticket-triage's 90-day retention, starts a real ``handrail serve`` on it, and measures
ingest over HTTP (batches of 20 ~1 KB steps, 2 senders) for ``--seconds`` alone: the
baseline. Then it runs the purge (``workflows.lifecycle.retention.purge_expired``, as the scheduled
job does, from this process: another instance of the same installation) while the same
ingest goes on, and prints the purge's time and rate and ingest's p50/p99 alone and beside
it. A figure, not a test: it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
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

from ingest import make_batches, start_server  # noqa: E402
from support import POSTGRES_URL, bulk_load, free_port, percentile, postgres_schema  # noqa: E402

from store.engine import create_engine, create_sessions  # noqa: E402
from workflows.config.brief import parse_config  # noqa: E402
from workflows.lifecycle.retention import batch_pause, purge_expired  # noqa: E402

WORKFLOW = "ticket-triage"
STEPS_PER_RUN = 100
RUN_COLUMNS = ("id", "workflow", "status", "input_source", "started_at", "ended_at",
               "event_count")  # fmt: skip
EVENT_COLUMNS = ("run_id", "workflow", "seq", "type", "name", "status", "input", "output",
                 "recorded_at")  # fmt: skip


def old_runs(events: int, *, now: datetime) -> Iterator[tuple[list[Any], list[Any]]]:
    """Finished runs of 100 steps, 100 to 200 days old, in chunks for the bulk loader."""
    rng = random.Random(7)
    runs = events // STEPS_PER_RUN
    for first in range(0, runs, 2_000):
        run_rows, event_rows = [], []
        for index in range(first, min(first + 2_000, runs)):
            run_id = f"old_{index:08d}"
            when = now - timedelta(days=200) + timedelta(seconds=index * 60)
            run_rows.append((run_id, WORKFLOW, "succeeded", f"ticket {index}", when,
                             when + timedelta(seconds=30), STEPS_PER_RUN))  # fmt: skip
            for seq in range(1, STEPS_PER_RUN + 1):
                payload = {"ticket": index, "text": "Where is my parcel? " * rng.randint(5, 15)}
                event_rows.append((run_id, WORKFLOW, seq, "tool", "order_lookup", "ok",
                                   orjson.dumps(payload).decode(), '{"label": "shipping"}',
                                   when))  # fmt: skip
        yield run_rows, event_rows


async def ingest(base: str, token: str, stop: asyncio.Event, senders: int = 2) -> list[float]:
    """Post batches of 20 steps to fresh runs until ``stop``; each request's latency in ms."""
    batches = [orjson.dumps({"events": batch}) for batch in make_batches(50, 20)]
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def sender() -> None:
            async with session.post(f"{base}/api/v1/runs", data=b"{}") as response:
                run_id = (await response.json())["run_id"]
            n = 0
            while not stop.is_set():
                body = batches[n % len(batches)].replace(b'"id":"', f'"id":"{n}-'.encode())
                started = time.perf_counter()
                async with session.post(f"{base}/api/v1/runs/{run_id}/events", data=body) as r:
                    assert r.status == 202, await r.text()
                latencies.append((time.perf_counter() - started) * 1000)
                n += 1

        await asyncio.gather(*(sender() for _ in range(senders)))
    return latencies


async def bench_store(store: str, events: int, seconds: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"handrail-bench-purge-{store}-"))
    raw = yaml.safe_load((ROOT / "workflows.example.yml").read_text())
    raw["workflows"][WORKFLOW]["retention"] = "90d"
    (workdir / "workflows.yml").write_text(yaml.safe_dump(raw))
    schema = None
    if store == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'handrail.db'}"
    else:
        url, schema = POSTGRES_URL, f"handrail_bench_{uuid.uuid4().hex[:8]}"
        await postgres_schema(schema, create=True)
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": url,
        "HANDRAIL_CONFIG": str(workdir / "workflows.yml"),
        "HANDRAIL_PORT": str(free_port()),
        "HANDRAIL_SCHEDULER": "false",  # the purge below is the only one
        "HANDRAIL_LOG_LEVEL": "warning",
        "BENCH_WORKERS": "1",
        **({"HANDRAIL_DATABASE_SCHEMA": schema} if schema else {}),
    }
    now = datetime.now(UTC)
    server = None
    try:
        load_seconds = await bulk_load(
            url, schema, workflows=list(raw["workflows"]), now=now,
            tables=(("runs", RUN_COLUMNS), ("events", EVENT_COLUMNS)),
            batches=old_runs(events, now=now),
        )  # fmt: skip
        server, token = await asyncio.to_thread(start_server, env)
        base = f"http://127.0.0.1:{env['HANDRAIL_PORT']}"
        await _wait_until_up(base)

        stop = asyncio.Event()
        alone_task = asyncio.create_task(ingest(base, token, stop))
        await asyncio.sleep(seconds)
        stop.set()
        alone = await alone_task

        engine = create_engine(url, schema=schema)
        stop = asyncio.Event()
        beside_task = asyncio.create_task(ingest(base, token, stop))
        started = time.perf_counter()
        report = await purge_expired(
            create_sessions(engine),
            config=parse_config(raw),
            now=datetime.now(UTC),
            pause=batch_pause(engine.dialect.name),
        )
        purge_seconds = time.perf_counter() - started
        stop.set()
        beside = await beside_task
        await engine.dispose()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if schema:
            await postgres_schema(schema, create=False)
        shutil.rmtree(workdir, ignore_errors=True)
    deleted = report.deleted[WORKFLOW]
    print(
        f"{store:<9} loaded {events:,} steps in {load_seconds:.0f} s; purge deleted "
        f"{deleted['events']:,} steps and {deleted['runs']:,} runs in {purge_seconds:.1f} s "
        f"({deleted['events'] / purge_seconds:,.0f} steps/s)"
    )
    for label, latencies in (("ingest alone", alone), ("ingest beside purge", beside)):
        print(
            f"{'':<9} {label:<20} {len(latencies):>6} requests   "
            f"p50 {percentile(latencies, 50):7.1f} ms   p99 {percentile(latencies, 99):7.1f} ms"
        )


async def _wait_until_up(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("handrail serve did not start")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20, help="ingest-alone baseline")
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    print(
        f"purge of {args.events:,} steps ({args.events // STEPS_PER_RUN:,} runs) past "
        "retention, batches of 500 rows; ingest: 2 senders x 20 steps per request"
    )
    for store in args.stores.split(","):
        await bench_store(store, args.events, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
