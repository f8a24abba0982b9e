"""Client overhead per recorded step, in microseconds, beside the same function undecorated.

Run: .venv/bin/python bench/client_overhead.py [--steps 5000] [--rounds 5]

Starts a real ``handrail serve`` on a fresh SQLite database and, inside one run, calls a
small async function ``--steps`` times undecorated, then as many times decorated with
``@handrail.step`` (recorded, batched 50 to a request as the client does by default,
sent over HTTP to the server), and the same for a sync function with
``HandrailSyncClient``. The figure is the difference per call, the median of ``--rounds``
rounds, in wall time (it includes waiting for the server to store each full batch of 50,
which the caller of the 50th step sees) and in this process's CPU time (what recording
costs the automation's machine; the server is another process). A figure, not a test: it
never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import handrail_client as handrail
from handrail_client import HandrailClient, HandrailSyncClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import free_port  # noqa: E402


async def lookup(order: str, qty: int) -> dict[str, Any]:
    return {"order": order, "qty": qty, "status": "shipped"}


recorded_lookup = handrail.step("order_lookup")(lookup)


def lookup_sync(order: str, qty: int) -> dict[str, Any]:
    return {"order": order, "qty": qty, "status": "shipped"}


recorded_lookup_sync = handrail.step("order_lookup")(lookup_sync)


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Migrate, create a token and start ``handrail serve``; the process, URL and token."""
    port = free_port()
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'handrail.db'}",
        "HANDRAIL_CONFIG": str(ROOT / "workflows.example.yml"),
        "HANDRAIL_PORT": str(port),
    }
    cli = [sys.executable, "-m", "bot.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    token = subprocess.run(
        [*cli, "token", "create", "ticket-triage"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    server = subprocess.Popen([*cli, "serve"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):  # noqa: S310 - ours
                break
        except OSError:
            time.sleep(0.1)
    return server, url, token


Timing = tuple[float, float]  # wall seconds, CPU seconds of this process
Round = tuple[Timing, Timing]  # undecorated, recorded


def clocks() -> Timing:
    return time.perf_counter(), time.process_time()


def since(start: Timing) -> Timing:
    wall, cpu = clocks()
    return wall - start[0], cpu - start[1]


async def async_round(client: HandrailClient, steps: int) -> Round:
    """Times for ``steps`` plain calls, then ``steps`` recorded calls, in one run."""
    async with client.run(input_source="bench"):
        started = clocks()
        for i in range(steps):
            await lookup("A-1", i)
        plain = since(started)
        started = clocks()
        for i in range(steps):
            await recorded_lookup("A-1", i)
        recorded = since(started)
    return plain, recorded


def sync_round(client: HandrailSyncClient, steps: int) -> Round:
    with client.run(input_source="bench"):
        started = clocks()
        for i in range(steps):
            lookup_sync("A-1", i)
        plain = since(started)
        started = clocks()
        for i in range(steps):
            recorded_lookup_sync("A-1", i)
        recorded = since(started)
    return plain, recorded


def report(label: str, steps: int, rounds: list[Round]) -> None:
    for column, what in ((0, "wall"), (1, "CPU ")):
        plain = statistics.median(r[0][column] for r in rounds) / steps * 1e6
        recorded = statistics.median(r[1][column] for r in rounds) / steps * 1e6
        print(
            f"{label:<6} {what} undecorated {plain:8.2f} µs/call   @step {recorded:8.2f} "
            f"µs/call   overhead {recorded - plain:8.2f} µs per recorded step"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="handrail-bench-client-"))
    server, url, token = await asyncio.to_thread(start_server, workdir)
    try:
        print(f"{args.steps} calls per round, {args.rounds} rounds, batches of 50, SQLite")
        async with HandrailClient(url, token) as client:
            await async_round(client, 200)  # warm up: connections, imports, the server
            rounds = [await async_round(client, args.steps) for _ in range(args.rounds)]
        report("async", args.steps, rounds)

        def sync_rounds() -> list[Round]:
            with HandrailSyncClient(url, token) as client:
                sync_round(client, 200)
                return [sync_round(client, args.steps) for _ in range(args.rounds)]

        report("sync", args.steps, await asyncio.to_thread(sync_rounds))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
