"""How close the outbox worker gets to Slack's rate limit, without losing or doubling a post.

Run: .venv/bin/python bench/outbox.py [--messages 600] [--channels 10] [--random-429 0.05]

For each store (a fresh SQLite file, then PostgreSQL when one answers at
``HANDRAIL_BENCH_POSTGRES_URL``) the script queues ``--messages`` handoff-like posts spread
over ``--channels`` channels, starts the real worker against the Slack emulator over HTTP
(1 post/s per channel, burst 1, plus random 429s) and waits until every row is settled.
The emulator runs in a process of its own, as Slack runs elsewhere, so its CPU does not
slow the worker's event loop. It prints delivered, failed, duplicates and lost (counted
from the emulator's messages by outbox key), the 429s met, the wall time, the rate-limit
minimum (posts per channel / rate) and their ratio, and, since every 429 honoured costs
its channel a slot, the floor left once the 429s fell where they did (the busiest
channel's calls, less the first, over the rate). About a minute per store by
construction. A figure, not a test: it never fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.outbox import OutboxWorker, WorkerSettings  # noqa: E402
from bot.renderers.registry import Renderers  # noqa: E402
from handlers.blocks import Message, handoff_message  # noqa: E402
from sandbox.emulator import SlackEmulator  # noqa: E402
from store.engine import create_engine, create_read_sessions, create_sessions  # noqa: E402
from store.migrate import upgrade_database  # noqa: E402
from store.models import OutboxMessage  # noqa: E402
from workflows.clock import system_clock  # noqa: E402
from workflows.delivery import outbox  # noqa: E402
from workflows.ledger.views import HandoffView  # noqa: E402

POSTGRES_URL = os.environ.get(
    "HANDRAIL_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SETTLE_LIMIT = 600.0
"""Seconds after which a store's run is abandoned and reported as such."""


async def render_handoff_like(db: AsyncSession, ref: str) -> Message:
    """A real handoff message from a synthetic view, after one read, as a handoff renders."""
    await db.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.id < 0))
    number = int(ref.rsplit("-", 1)[-1])
    view = HandoffView(
        id=ref,
        workflow="ticket-triage",
        run_id=f"run_{number:05d}",
        kind="low_confidence" if number % 2 else "draft",
        status="pending",
        summary=f"Customer {number} asks where order #{40_000 + number} is; tracking is stale.",
        action="send_reply",
        draft="Hi,\nyour parcel left our warehouse yesterday and should arrive on Friday.\nBest",
        confidence=0.62,
        threshold=0.8,
        stop_topic=None,
        tool=None,
        error=None,
        last_step="draft_reply",
        created_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        paused=None,
        decision=None,
    )
    return handoff_message(view)


async def queue(sessions: Any, *, messages: int, channels: list[str]) -> None:
    now = system_clock()
    async with sessions() as db, db.begin():
        for number in range(messages):
            await outbox.post_message(
                db,
                key=f"bench:{number}",
                channel=channels[number % len(channels)],
                render="handoff-like",
                ref=f"handoff-{number}",
                workflow="ticket-triage",
                now=now,
            )


async def settled(sessions: Any) -> Counter[str]:
    async with sessions() as db:
        rows = await db.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return Counter({status: count for status, count in rows.all()})


@dataclass
class Tally:
    """What reached the emulator, counted in its own process and sent back at the end."""

    per_key: Counter[str]
    per_channel_calls: Counter[str]
    limited: int
    posts: int
    lookups: int


def serve_emulator(connection: Connection, options: dict[str, Any]) -> None:
    """Child process: run the emulator until asked for the tally, as Slack runs elsewhere."""
    asyncio.run(_serve_emulator(connection, options))


async def _serve_emulator(connection: Connection, options: dict[str, Any]) -> None:
    channels: list[str] = options["channels"]
    emulator = SlackEmulator(
        channels={channel: channel.lower() for channel in channels},
        post_rate=options["rate"],
        post_burst=1,
        random_429=options["random_429"],
        seed=options["seed"],
    )
    await emulator.start()
    connection.send(emulator.api_url)
    await asyncio.get_running_loop().run_in_executor(None, connection.recv)
    posts = emulator.calls_to("chat.postMessage")
    connection.send(
        Tally(
            per_key=Counter(
                str((message.event_payload or {}).get("outbox_key"))
                for channel in channels
                for message in emulator.messages(channel)
            ),
            per_channel_calls=Counter(str(call.body.get("channel")) for call in posts),
            limited=sum(1 for call in emulator.calls if call.status == 429),
            posts=len(posts),
            lookups=len(emulator.calls_to("conversations.history")),
        )
    )
    await emulator.stop()


async def run_store(name: str, url: str, schema: str | None, args: argparse.Namespace) -> None:
    engine = create_engine(url, schema=schema)
    await upgrade_database(engine)
    sessions, readers = create_sessions(engine), create_read_sessions(engine)
    channels = [f"C0BENCH{i:02d}" for i in range(args.channels)]
    await queue(sessions, messages=args.messages, channels=channels)
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    options = {
        "channels": channels,
        "rate": args.rate,
        "random_429": args.random_429,
        "seed": args.seed,
    }
    slack = multiprocessing.get_context("spawn").Process(
        target=serve_emulator, args=(theirs, options), daemon=True
    )
    slack.start()
    loop = asyncio.get_running_loop()
    api_url = await loop.run_in_executor(None, ours.recv)
    async with aiohttp.ClientSession() as http:
        client = AsyncWebClient(
            token="xoxb-test-token", base_url=api_url, session=http, retry_handlers=[]
        )
        worker = OutboxWorker(
            sessions=sessions,
            readers=readers,
            slack_client=client,
            renderers=Renderers({"handoff-like": render_handoff_like}),
            clock=system_clock,
            settings=WorkerSettings(concurrency=args.concurrency),
        )
        started = time.perf_counter()
        worker.start()
        try:
            # The worker's own tally says when every row is settled, so the bench adds
            # no queries of its own while it runs; the database is checked afterwards.
            while time.perf_counter() - started < SETTLE_LIMIT:
                if worker.stats["done"] + worker.stats["failed"] >= args.messages:
                    break
                await asyncio.sleep(0.01)
        finally:
            elapsed = time.perf_counter() - started
            await worker.stop()
            counts = await settled(readers)
    ours.send("report")
    tally: Tally = await loop.run_in_executor(None, ours.recv)
    slack.join(timeout=10)
    report(name, args, tally, counts, worker, elapsed)
    await engine.dispose()


def report(
    name: str,
    args: argparse.Namespace,
    tally: Tally,
    counts: Counter[str],
    worker: OutboxWorker,
    elapsed: float,
) -> None:
    keys = [f"bench:{number}" for number in range(args.messages)]
    per_key = tally.per_key
    duplicates = sum(per_key[key] - 1 for key in keys if per_key[key] > 1)
    lost = sum(1 for key in keys if per_key[key] == 0)
    minimum = args.messages / args.channels / args.rate
    # Honouring Retry-After, every 429 costs its channel one slot: the busiest channel's
    # calls (429s included; the first goes at once) over the rate is the least any worker
    # could have taken with the 429s this run dealt.
    floor = max(max(tally.per_channel_calls.values(), default=1) - 1, 1) / args.rate
    print(f"\n== {name}: {args.messages} posts over {args.channels} channels at {args.rate:g}/s")
    print(f"delivered (rows done)     {counts['done']}")
    print(f"failed rows               {counts['failed']}")
    print(f"messages in channels      {sum(per_key[key] for key in keys)}")
    print(f"duplicates                {duplicates}")
    print(f"lost                      {lost}")
    print(f"chat.postMessage calls    {tally.posts}  (429s met: {tally.limited})")
    print(f"history look-ups          {tally.lookups}")
    print(f"worker outcomes           {dict(sorted(worker.stats.items()))}")
    print(f"wall time                 {elapsed:.2f} s")
    print(f"rate-limit minimum        {minimum:.2f} s")
    print(f"ratio                     {elapsed / minimum:.3f}  (target <= 1.15)")
    print(f"busiest channel's calls   {floor:.2f} s  (the floor once the 429s are dealt)")
    print(f"ratio to that floor       {elapsed / floor:.3f}")


async def postgres_schema() -> str | None:
    engine = create_engine(POSTGRES_URL)
    schema = f"handrail_bench_{uuid.uuid4().hex[:8]}"
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, ConnectionError) as error:
        print(f"\n== postgres: skipped ({POSTGRES_URL} is not reachable: {error})")
        return None
    finally:
        await engine.dispose()
    return schema


async def drop_schema(schema: str) -> None:
    engine = create_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    stores = args.stores.split(",")
    if "sqlite" in stores:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/handrail.db"
            await run_store("sqlite", url, None, args)
    if "postgres" in stores:
        schema = await postgres_schema()
        if schema is not None:
            try:
                await run_store("postgres", POSTGRES_URL, schema, args)
            finally:
                await drop_schema(schema)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--rate", type=float, default=1.0, help="posts/s per channel")
    parser.add_argument("--random-429", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,postgres")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
