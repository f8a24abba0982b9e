"""A steady load on a real ``handrail serve``: its memory over time, and the handoff rate a
review channel sustains before the outbox backlog grows.

Run: .venv/bin/python bench/soak.py [--minutes 30] [--at 1,10,30] [--channels 4]
     [--rate 0.25] [--runs 10] [--step-seconds 30]

The script starts the local Slack emulator (rate-limited as Slack is: about one message a
second per channel) and a real ``handrail serve`` process on a fresh SQLite file, both on
loopback. For ``--minutes`` it keeps a steady load: every second ``--runs`` ledger runs
(start, five steps, finish) and, in each of ``--channels`` review channels, ``--rate``
handoffs per second (a run, its steps, a gate that needs approval, a short long-poll for
the answer, an Approve click signed as Slack signs it once the message is posted, and the
run's end). It prints the server's resident memory (RSS, from /proc) at each minute of
``--at`` and at the end. Then it raises the handoff rate step by step (``--step-seconds``
each) and prints the outbox backlog at the start and end of each step: the highest rate
whose backlog did not grow is the rate a review channel sustains, printed beside Slack's
floor of one message per second per channel (each handoff is three messages: the post,
its in-place update and the decision's thread reply). A figure, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import free_port  # noqa: E402
from sandbox.driver import SlackDriver  # noqa: E402
from sandbox.emulator import SlackEmulator  # noqa: E402
from sandbox.workspace import DEFAULT_TOKEN  # noqa: E402
from workflows.review.handoff_keys import post_key  # noqa: E402

SECRET = "bench-signing-secret"
REVIEWER = "U0ALICE"
MESSAGES_PER_HANDOFF = 3
STEPS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.75)
GATE = {"action": "send_reply", "draft": "Your refund is on its way.", "confidence": 0.9}
STEP_EVENTS = [
    {"type": "tool", "name": "order_lookup", "input": {"order": n}, "output": {"ok": True}}
    for n in range(5)
]


def workflows_yml(channels: int) -> str:
    review = "\n".join(
        f"""  review-{n}:
    review_channel: C0SOAK{n}
    reviewers: [{REVIEWER}]
    admins: [U0OWNER]
    mode: review
    allowed_actions: [send_reply]
    require_approval: [send_reply]"""
        for n in range(channels)
    )
    return f"""workflows:
  ledger:
    mode: auto
    allowed_actions: [tag]
{review}
"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def backlog(db_path: Path) -> int:
    """Outbox rows not yet delivered (read from a WAL snapshot, no write lock taken)."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as connection:
        row = connection.execute("SELECT count(*) FROM outbox WHERE status != 'done'").fetchone()
        return int(row[0])


class Load:
    """The automation and the reviewer: runs and handoffs through the API, clicks in Slack."""

    def __init__(
        self,
        base: str,
        tokens: dict[str, str],
        driver: SlackDriver,
        emulator: SlackEmulator,
    ) -> None:
        self.base, self.tokens, self.driver, self.emulator = base, tokens, driver, emulator
        self.session = aiohttp.ClientSession()
        self.tasks: set[asyncio.Task[None]] = set()
        self.errors = 0
        self.first_error = ""

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors += 1
            self.first_error = self.first_error or repr(task.exception())

    async def _post(self, workflow: str, path: str, body: object) -> dict[str, object]:
        headers = {"Authorization": f"Bearer {self.tokens[workflow]}"}
        async with self.session.post(f"{self.base}{path}", json=body, headers=headers) as answer:
            answer.raise_for_status()
            result: dict[str, object] = await answer.json()
            return result

    async def ledger_run(self) -> None:
        run_id = (await self._post("ledger", "/api/v1/runs", {}))["run_id"]
        await self._post("ledger", f"/api/v1/runs/{run_id}/events", {"events": STEP_EVENTS})
        await self._post("ledger", f"/api/v1/runs/{run_id}/finish", {"status": "succeeded"})

    async def handoff(self, channel: int) -> None:
        workflow = f"review-{channel}"
        run_id = (await self._post(workflow, "/api/v1/runs", {}))["run_id"]
        await self._post(workflow, f"/api/v1/runs/{run_id}/events", {"events": STEP_EVENTS})
        handoff_id = str(
            (await self._post(workflow, f"/api/v1/runs/{run_id}/gate", GATE))["handoff_id"]
        )
        headers = {"Authorization": f"Bearer {self.tokens[workflow]}"}
        url = f"{self.base}/api/v1/handoffs/{handoff_id}?wait=1"
        async with self.session.get(url, headers=headers) as answer:
            await answer.read()
        ts = await self._posted(f"C0SOAK{channel}", post_key(handoff_id))
        if ts is not None:
            await self.driver.click(
                action_id="handoff-approve",
                user=REVIEWER,
                channel=f"C0SOAK{channel}",
                message_ts=ts,
            )
        await self._post(workflow, f"/api/v1/runs/{run_id}/finish", {"status": "succeeded"})

    async def _posted(self, channel: str, key: str) -> str | None:
        """The message's ts once the outbox posted it (bounded: two minutes)."""
        for _ in range(1200):
            for message in reversed(self.emulator.messages(channel)):
                if (message.event_payload or {}).get("outbox_key") == key:
                    return message.ts
            await asyncio.sleep(0.1)
        return None

    async def tick(self, *, runs: int, channels: int, rate: float, second: int) -> None:
        """One second of load; handoffs at ``rate`` a second per channel, spread evenly."""
        for _ in range(runs):
            self.spawn(self.ledger_run())
        for channel in range(channels):
            due = int((second + 1) * rate) - int(second * rate)
            for _ in range(due):
                self.spawn(self.handoff(channel))

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()


async def steady(load: Load, args: argparse.Namespace, pid: int) -> None:
    checkpoints = sorted({m for m in args.at if m <= args.minutes} | {args.minutes})
    started = time.monotonic()
    print(
        f"steady load for {args.minutes:g} min: {args.runs} ledger runs/s, "
        f"{args.rate:g} handoffs/s in each of {args.channels} review channels"
    )
    print(f"RSS at start: {rss_mib(pid):.1f} MiB")
    for second in range(int(args.minutes * 60)):
        await load.tick(runs=args.runs, channels=args.channels, rate=args.rate, second=second)
        await asyncio.sleep(max(0.0, started + second + 1 - time.monotonic()))
        minute = (second + 1) / 60
        if minute in checkpoints:
            print(
                f"RSS at {minute:g} min: {rss_mib(pid):.1f} MiB "
                f"({len(load.tasks)} requests in flight, {load.errors} failed so far"
                f"{': first ' + load.first_error if load.errors else ''})"
            )


async def sustained(load: Load, args: argparse.Namespace, db_path: Path) -> float:
    """The highest handoff rate per channel at which the outbox backlog did not grow."""
    best = 0.0
    print(f"\nhandoffs/s per channel  backlog at start -> end of {args.step_seconds:g} s")
    for rate in STEPS:
        before = backlog(db_path)
        started = time.monotonic()
        for second in range(int(args.step_seconds)):
            await load.tick(runs=0, channels=args.channels, rate=rate, second=second)
            await asyncio.sleep(max(0.0, started + second + 1 - time.monotonic()))
        after = backlog(db_path)
        grew = after > before + args.channels * MESSAGES_PER_HANDOFF * 2
        print(f"{rate:>22g}  {before:>6} -> {after:<6}{'  grows' if grew else ''}")
        if grew:
            break
        best = rate
    return best


async def wait_until_up(base: str) -> None:
    """Bounded: two minutes (a loaded machine, or a traced server, starts slowly)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not come up")


def start_server(
    env: dict[str, str], channels: int, log_path: Path
) -> tuple[dict[str, str], subprocess.Popen[bytes]]:
    """Migrate the fresh store, make a token per workflow, start ``handrail serve``."""
    cli = [sys.executable, "-m", "bot.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    tokens = {}
    for name in ["ledger", *(f"review-{n}" for n in range(channels))]:
        made = subprocess.run(
            [*cli, "token", "create", name],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        tokens[name] = made.stdout.strip()
    with log_path.open("wb") as log:  # the server's log, kept to explain any failed request
        server = subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stderr=log)
    return tokens, server


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="handrail-bench-soak-"))
    db_path = workdir / "handrail.db"
    (workdir / "workflows.yml").write_text(workflows_yml(args.channels))
    channels = {f"C0SOAK{n}": f"soak-{n}" for n in range(args.channels)}
    emulator = SlackEmulator(channels=channels, post_rate=1.0)
    await emulator.start()
    port = free_port()
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "HANDRAIL_CONFIG": str(workdir / "workflows.yml"),
        "HANDRAIL_PORT": str(port),
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator.api_url,
    }
    env.pop("SLACK_APP_TOKEN", None)
    log_path = workdir.with_name(f"{workdir.name}.log")  # kept after the store is removed
    print(f"server log: {log_path}")
    tokens, server = await asyncio.to_thread(start_server, env, args.channels, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base)
        async with SlackDriver(f"{base}/slack/events", SECRET, emulator) as driver:
            load = Load(base, tokens, driver, emulator)
            try:
                await steady(load, args, server.pid)
                best = await sustained(load, args, db_path)
            finally:
                await load.close()
        print(
            f"\nsustained: {best:g} handoffs/s per review channel "
            f"(= {best * MESSAGES_PER_HANDOFF:g} Slack messages/s per channel); "
            f"Slack's floor: 1 message/s per channel"
        )
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, timeout=30)
        await emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument(
        "--at",
        type=lambda text: [float(m) for m in text.split(",")],
        default=[1.0, 10.0, 30.0],
        help="minutes at which to print RSS (default 1,10,30)",
    )
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.25, help="handoffs/s per channel")
    parser.add_argument("--runs", type=int, default=10, help="ledger runs/s")
    parser.add_argument("--step-seconds", type=float, default=30.0)
    return parser.parse_args()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # figures as they come, also into a file
    asyncio.run(main(parse_args()))
