"""How soon a decision or an outbox row written in one process is seen in another.

Run: .venv/bin/python bench/wakeups.py [--decisions 60] [--gates 20] [--stores sqlite,postgres]

For each store it starts real ``handrail serve`` processes with the Slack emulator as Slack,
once with wake-ups between processes on and once off (``HANDRAIL_WAKEUPS=false``: waiters
learn only at their re-read, 1 s, and the outbox worker at its poll, 0.2 s), and prints:

* click -> automation sees the decision, with ``serve --workers 2``: an automation
  long-polls ``GET /handoffs/{id}?wait=30`` and, once the handoff's message is in Slack (a
  person can only click a posted message), a reviewer clicks Approve (signed as Slack
  signs); both land on whichever worker the kernel picks, so about half cross processes.
  Timed from the click being sent to the long-poll answering. Target: p95 < 150 ms.
  The same across two ``serve`` instances on the store, the long-poll on one and the click
  on the other: every decision crosses processes.
* gate -> Slack message posted: a review opened on an instance without an outbox worker,
  posted by another instance's worker (across processes), beside the same gate opened on
  the instance that posts it (one process). Timed from the gate's answer to the emulator
  recording the message.

A figure, not a test: nothing here fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from ack_latency import approve_message, wait_until_up
from support import POSTGRES_URL, free_port, percentile, postgres_schema

from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from sandbox.workspace import DEFAULT_TOKEN
from workflows.review.handoff_keys import post_key

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
CHANNEL = "C0REVIEW"
WARM_UP = 2
"""Samples dropped from the front of each series: a fresh process's first requests."""
WORKFLOWS = f"""workflows:
  ticket-triage:
    review_channel: {CHANNEL}
    reviewers: [U0ALICE]
    admins: [U0OWNER]
    mode: review
    allowed_actions: [send_reply]
    require_approval: [send_reply]
"""


class Store:
    """One database for one measurement: a fresh SQLite file or a scratch schema."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.schema = f"bench_wake_{uuid.uuid4().hex[:8]}" if kind == "postgres" else None
        self.url = (
            POSTGRES_URL
            if kind == "postgres"
            else f"sqlite+aiosqlite:///{workdir / f'{uuid.uuid4().hex[:8]}.db'}"
        )

    def env(self, workdir: Path, emulator: SlackEmulator, *, wakeups: bool) -> dict[str, str]:
        env = {
            **os.environ,
            "HANDRAIL_DATABASE_URL": self.url,
            "HANDRAIL_CONFIG": str(workdir / "workflows.yml"),
            "HANDRAIL_SCHEDULER": "false",
            "HANDRAIL_OUTBOX_WORKER": "true",
            "HANDRAIL_WAKEUPS": "true" if wakeups else "false",
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emulator.api_url,
        }
        env.pop("SLACK_APP_TOKEN", None)
        if self.schema:
            env["HANDRAIL_DATABASE_SCHEMA"] = self.schema
        return env


def handrail(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@asynccontextmanager
async def serving(env: dict[str, str], *args: str, **extra: str) -> AsyncIterator[str]:
    """A ``handrail serve`` process (``args`` such as ``--workers 2``); yields its URL."""
    port = str(free_port())
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "serve",
        *args,
        env={**env, **extra, "HANDRAIL_PORT": port},
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base)
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)


async def open_review(http: aiohttp.ClientSession, base: str, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{base}/api/v1/runs", json={}, headers=headers) as reply:
        run_id = (await reply.json())["run_id"]
    gate = {"action": "send_reply", "draft": "Your refund is on its way.", "confidence": 0.9}
    async with http.post(f"{base}/api/v1/runs/{run_id}/gate", json=gate, headers=headers) as r:
        return str((await r.json())["handoff_id"])


async def decision_latencies(
    emulator: SlackEmulator, poll_base: str, click_base: str, token: str, count: int
) -> list[float]:
    """Click (sent to ``click_base``) -> long-poll (on ``poll_base``) answered, in ms, one
    handoff at a time. Each request opens its own connection, so with ``--workers N`` the
    kernel picks a worker for each (a kept-alive connection would stay with one worker, and
    a whole run would cross processes always or never)."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    for _ in range(count + WARM_UP):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            handoff_id = await open_review(http, poll_base, token)

            async def poll(handoff_id: str = handoff_id) -> float:
                url = f"{poll_base}/api/v1/handoffs/{handoff_id}?wait=30"
                async with http.get(url, headers=headers) as reply:
                    assert (await reply.json())["status"] == "approved"
                return time.perf_counter()

            polling = asyncio.create_task(poll())
            await message_posted(emulator, handoff_id)  # a person clicks on a posted message
            await asyncio.sleep(0.05)  # let the long-poll reach its wait
            async with SlackDriver(click_base, SECRET, emulator) as driver:
                clicked = time.perf_counter()
                await driver.click(
                    action_id="handoff-approve",
                    user="U0ALICE",
                    channel=CHANNEL,
                    message_ts="1.000001",
                    message=approve_message(handoff_id),
                )
                latencies.append((await polling - clicked) * 1000)
    return latencies[WARM_UP:]


async def posted_latencies(
    http: aiohttp.ClientSession, emulator: SlackEmulator, base: str, token: str, count: int
) -> list[float]:
    """Gate answered -> the emulator has the handoff's message, in ms."""
    latencies: list[float] = []
    for _ in range(count + WARM_UP):
        await asyncio.sleep(1.1)  # the worker posts at most one message a second a channel
        handoff_id = await open_review(http, base, token)
        answered = time.perf_counter()
        await message_posted(emulator, handoff_id)
        latencies.append((time.perf_counter() - answered) * 1000)
    return latencies[WARM_UP:]


async def message_posted(emulator: SlackEmulator, handoff_id: str) -> None:
    """Return once the emulator has the handoff's message."""
    key = post_key(handoff_id)
    while not any(  # noqa: ASYNC110 - the emulator records messages; it signals nothing
        (message.event_payload or {}).get("outbox_key") == key
        for message in emulator.messages(CHANNEL)[-5:]
    ):
        await asyncio.sleep(0.002)


def quantiles(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"


async def bench_store(kind: str, args: argparse.Namespace, emulator: SlackEmulator) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="handrail-bench-wake-"))
    (workdir / "workflows.yml").write_text(WORKFLOWS)
    print(f"\n{kind}")
    for wakeups in (True, False):
        store = Store(kind, workdir)
        if store.schema:
            await postgres_schema(store.schema, create=True)
        env = store.env(workdir, emulator, wakeups=wakeups)
        label = "wake-ups on " if wakeups else "re-read only"
        try:
            await asyncio.to_thread(handrail, env, "db", "upgrade")
            token = await asyncio.to_thread(handrail, env, "token", "create", "ticket-triage")
            async with serving(env, "--workers", "2") as base:
                decided = await decision_latencies(emulator, base, base, token, args.decisions)
            print(f"  {label}  click -> automation sees it (--workers 2):  {quantiles(decided)}")
            async with (
                aiohttp.ClientSession() as http,
                serving(env) as poster,
                serving(env, HANDRAIL_OUTBOX_WORKER="false") as other,
            ):
                crossed = await decision_latencies(emulator, other, poster, token, args.decisions)
                print(f"  {label}  click -> automation sees it (2 instances): {quantiles(crossed)}")
                across = await posted_latencies(http, emulator, other, token, args.gates)
                local = await posted_latencies(http, emulator, poster, token, args.gates)
                print(f"  {label}  gate -> message posted, across processes: {quantiles(across)}")
                print(f"  {label}  gate -> message posted, one process:      {quantiles(local)}")
        finally:
            if store.schema:
                await postgres_schema(store.schema, create=False)


async def main(args: argparse.Namespace) -> None:
    print(
        f"{args.decisions} decisions and {args.gates} gates per line, one at a time; "
        "re-read 1 s, outbox poll 0.2 s (the defaults)"
    )
    async with SlackEmulator(post_rate=None) as emulator:
        for kind in args.stores.split(","):
            await bench_store(kind, args, emulator)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=60)
    parser.add_argument("--gates", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgres")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
