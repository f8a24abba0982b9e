"""Events per second through the HTTP API beside raw Core executemany, SQLite and PostgreSQL.

Run: .venv/bin/python bench/ingest.py [--batches 300] [--concurrency 4]

For each store the script starts a real ``handrail serve`` process on a fresh database,
posts batches of 100 realistic ~1 KB events (about one in ten carrying a secret; redaction
on) from this process over HTTP, then inserts the same rows with SQLAlchemy Core
``executemany`` (one transaction per 100 rows) into the same database. It prints both
rates, their ratio and the server's peak RSS. A figure, not a test: it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import POSTGRES_URL, free_port, postgres_schema  # noqa: E402

from store.engine import create_engine  # noqa: E402
from store.models import Event, Run  # noqa: E402

SECRETS = [
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl",
    "aws key AKIAIOSFODNN7EXAMPLE in config",
    "slack xoxb-2048204820-4820482048204-AbCdEfGhIjKlMnOpQrStUvWx",
    "postgres://svc:hunter2secret@db.internal:5432/orders",
]
WORDS = [
    *("customer", "order", "refund", "shipping", "delayed", "invoice", "total", "due"),
    *("address", "update", "ticket", "priority", "billing", "account", "warehouse"),
    *("carrier", "tracking", "label", "return", "policy"),
]


def realistic_event(rng: random.Random, i: int) -> dict[str, Any]:
    """A ~1 KB step: a tool call with structured input and output, sometimes a secret."""
    prose = " ".join(rng.choice(WORDS) for _ in range(60))
    note = rng.choice(SECRETS) if rng.random() < 0.1 else prose[:80]
    return {
        "id": uuid.uuid4().hex,
        "type": rng.choice(["prompt", "model", "tool", "tool", "action"]),
        "name": rng.choice(["order_lookup", "classify", "draft_reply", "crm_update"]),
        "status": "ok",
        "duration_ms": round(rng.uniform(5, 900), 1),
        "input": {"ticket": 10_000 + i, "text": prose[:420], "note": note},
        "output": {
            "label": rng.choice(WORDS),
            "confidence": round(rng.random(), 3),
            "summary": prose[200:520],
        },
        "model": "gpt-4o-mini",
        "settings": {"temperature": 0.2, "max_tokens": 512},
        "tokens_in": rng.randint(100, 2000),
        "tokens_out": rng.randint(10, 400),
    }


def make_batches(count: int, size: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    return [[realistic_event(rng, b * size + i) for i in range(size)] for b in range(count)]


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(root: int) -> list[int]:
    """``root`` and its child processes (the server's workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == root:
                    children.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return [root, *children]


def cpu_seconds(root: int) -> float:
    """User plus system CPU time of the server's processes (and their threads) so far."""
    ticks = sum(int(_stat(pid)[11]) + int(_stat(pid)[12]) for pid in process_tree(root))
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(root: int) -> float:
    """The sum of each server process's peak resident memory."""
    total = 0
    for pid in process_tree(root):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Migrate, create a token and start ``handrail serve``; returns the process and token."""
    python = str(Path(sys.executable))
    subprocess.run(
        [python, "-m", "bot.cli.main", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    token = subprocess.run(
        [python, "-m", "bot.cli.main", "token", "create", "ticket-triage"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [python, "-m", "bot.cli.main", "serve", "--workers", env["BENCH_WORKERS"]],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    return server, token


async def through_api(
    env: dict[str, str], batches: list[list[dict[str, Any]]], concurrency: int
) -> tuple[float, float, float]:
    """Send every batch to a fresh server; (events/s, peak RSS in MB, CPU ms per batch)."""
    server, token = await asyncio.to_thread(start_server, env)
    base = f"http://127.0.0.1:{env['HANDRAIL_PORT']}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            runs = []
            for _ in range(concurrency):
                async with session.post(f"{base}/api/v1/runs", json={}) as response:
                    runs.append((await response.json())["run_id"])
            # Bodies are serialised up front so the load generator spends its CPU on sending.
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            for batch in batches:
                queue.put_nowait(orjson.dumps({"events": batch}))

            async def sender(run_id: str) -> None:
                while not queue.empty():
                    body = queue.get_nowait()
                    async with session.post(
                        f"{base}/api/v1/runs/{run_id}/events",
                        data=body,
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        assert response.status == 202, await response.text()

            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            await asyncio.gather(*(sender(run_id) for run_id in runs))
            elapsed = time.perf_counter() - started
            cpu_per_batch_ms = (cpu_seconds(server.pid) - cpu_before) / len(batches) * 1000
        rate = sum(len(b) for b in batches) / elapsed
        return rate, peak_rss_mb(server.pid), cpu_per_batch_ms
    finally:
        server.terminate()
        server.wait(timeout=10)


async def raw_executemany(
    url: str, schema: str | None, batches: list[list[dict[str, Any]]]
) -> float:
    """The same rows, inserted with Core executemany, one transaction per batch."""
    engine = create_engine(url, schema=schema)
    now = datetime.now(UTC)
    run_id = f"raw-{uuid.uuid4().hex}"
    async with engine.begin() as connection:
        await connection.execute(
            insert(Run).values(
                id=run_id, workflow="ticket-triage", status="running", started_at=now, event_count=0
            )
        )
    seq = 0
    rows_per_batch = []
    for batch in batches:
        rows = []
        for event in batch:
            seq += 1
            rows.append(
                {
                    "run_id": run_id,
                    "workflow": "ticket-triage",
                    "seq": seq,
                    "client_id": event["id"],
                    "type": event["type"],
                    "name": event["name"],
                    "status": event["status"],
                    "started_at": None,
                    "ended_at": None,
                    "duration_ms": event["duration_ms"],
                    "input": event["input"],
                    "output": event["output"],
                    "error": None,
                    "model": event["model"],
                    "settings": event["settings"],
                    "prompt_version": None,
                    "tokens_in": event["tokens_in"],
                    "tokens_out": event["tokens_out"],
                    "redactions": None,
                    "recorded_at": now,
                }
            )
        rows_per_batch.append(rows)
    started = time.perf_counter()
    for rows in rows_per_batch:
        async with engine.begin() as connection:
            await connection.execute(insert(Event), rows)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return seq / elapsed


@asynccontextmanager
async def bench_environment(
    name: str, *, workers: int, prefix: str
) -> AsyncIterator[tuple[dict[str, str], str, str | None]]:
    """A scratch store (an SQLite file, or a fresh PostgreSQL schema) and the environment a
    ``handrail serve`` for it needs: (env, database URL, schema); removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"handrail-bench-{prefix}-"))
    shutil.copy(ROOT / "workflows.example.yml", workdir / "workflows.yml")
    schema = None
    if name == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'handrail.db'}"
    else:
        url = POSTGRES_URL
        schema = f"handrail_bench_{uuid.uuid4().hex[:8]}"
        await postgres_schema(schema, create=True)
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": url,
        "HANDRAIL_CONFIG": str(workdir / "workflows.yml"),
        "HANDRAIL_PORT": str(free_port()),
        "BENCH_WORKERS": str(workers),
        **({"HANDRAIL_DATABASE_SCHEMA": schema} if schema else {}),
    }
    try:
        yield env, url, schema
    finally:
        if schema:
            await postgres_schema(schema, create=False)
        shutil.rmtree(workdir, ignore_errors=True)


async def bench_store(
    name: str, batches: list[list[dict[str, Any]]], concurrency: int, workers: int
) -> None:
    async with bench_environment(name, workers=workers, prefix=name) as (env, url, schema):
        api_rate, rss, cpu_ms = await through_api(env, batches, concurrency)
        raw_rate = await raw_executemany(url, schema, batches)
    print(
        f"{name:<10} API {api_rate:>9,.0f} events/s   raw executemany {raw_rate:>9,.0f} rows/s   "
        f"ratio {api_rate / raw_rate:>5.0%}   server CPU {cpu_ms:.1f} ms/batch   "
        f"peak RSS {rss:,.0f} MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=1, help="handrail serve --workers")
    args = parser.parse_args()
    batches = make_batches(args.batches, 100)
    size = len(str(batches[0][0]))
    print(
        f"{args.batches} batches x 100 events (~{size} bytes each), "
        f"{args.concurrency} concurrent senders, {args.workers} server process(es)"
    )
    for store in args.stores.split(","):
        await bench_store(store, batches, args.concurrency, args.workers)


if __name__ == "__main__":
    asyncio.run(main())
