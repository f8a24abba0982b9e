"""A server killed with SIGKILL in the middle of a burst loses and repeats nothing."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select, update

from bot.services import Services
from handlers.ids import ActionId
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from store.models import Decision, Event, OutboxMessage
from store.repositories.workflows import create_missing_workflows
from tests.conftest import Database
from tests.serve_process import fleet, free_port, serve_env, serving, wait_until_up
from tests.slack_harness import SIGNING_SECRET
from workflows import credentials
from workflows.config.brief import parse_config
from workflows.review.handoff_keys import post_key

CHANNELS = 6
GATE = {"action": "send_reply", "draft": "Your refund is on its way.", "confidence": 0.9}


class Fleet:
    """The API side of the burst: one token per workflow, runs and gates through HTTP."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens

    async def gate(self, session: aiohttp.ClientSession, workflow: str) -> str:
        """Open a handoff in ``workflow``; its ID once the server answered."""
        headers = {"Authorization": f"Bearer {self.tokens[workflow]}"}
        async with session.post(f"{self.base}/api/v1/runs", json={}, headers=headers) as made:
            run_id = (await made.json())["run_id"]
        url = f"{self.base}/api/v1/runs/{run_id}/gate"
        async with session.post(url, json=GATE, headers=headers) as answered:
            return str((await answered.json())["handoff_id"])


def posts_by_key(emulator: SlackEmulator) -> Counter[str]:
    """How many messages the emulator holds for each outbox key (a repeat is a duplicate)."""
    return Counter(
        str((message.event_payload or {}).get("outbox_key"))
        for n in range(CHANNELS)
        for message in emulator.messages(f"C0REV{n}")
    )


async def until(check: Callable[[], Awaitable[bool]], *, what: str, seconds: float = 20) -> None:
    """Poll ``check`` (bounded) until it is true."""
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_kill_during_a_burst_loses_and_repeats_nothing(
    database: Database, services: Services, tmp_path: Path
) -> None:
    """Killed mid-burst and restarted: each answered gate posted once, each acked click decided."""
    config = fleet(CHANNELS)
    async with services.sessions() as db, db.begin():
        await create_missing_workflows(db, config["workflows"], services.clock())
        tokens = {}
        for name in config["workflows"]:
            tokens[name], _ = await credentials.create_token(
                db,
                workflow=name,
                scopes=credentials.DEFAULT_SCOPES,
                expires_in=None,
                label="kill",
                now=services.clock(),
            )
    parse_config(config)  # the file the server reads must be valid
    log = tmp_path / "serve.log"
    channels = {f"C0REV{n}": f"review-{n}" for n in range(CHANNELS)}
    async with SlackEmulator(post_rate=None, channels=channels) as emulator:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = serve_env(database, config, tmp_path, port=port, slack_api_url=emulator.api_url)
        fleet_api = Fleet(base, tokens)
        async with (
            aiohttp.ClientSession() as session,
            SlackDriver(f"{base}/slack/events", SIGNING_SECRET, emulator) as driver,
        ):
            with serving(env, log) as server:
                await wait_until_up(base, server, log)
                first = [await fleet_api.gate(session, name) for name in tokens]

                async def all_posted() -> bool:
                    return all(posts_by_key(emulator)[post_key(h)] for h in first)

                await until(all_posted, what="the first handoffs posted")
                messages = {
                    (message.event_payload or {}).get("outbox_key"): (channel, message.ts)
                    for channel in (f"C0REV{n}" for n in range(CHANNELS))
                    for message in emulator.messages(channel)
                }
                acked_clicks: list[str] = []
                acked_gates: list[str] = []
                half_answered = asyncio.Event()
                burst_size = len(first) + 2 * len(tokens)

                def answered() -> None:
                    if len(acked_clicks) + len(acked_gates) >= burst_size // 2:
                        half_answered.set()

                async def click(handoff_id: str) -> None:
                    channel, ts = messages[post_key(handoff_id)]
                    response = await driver.click(
                        action_id=ActionId.HANDOFF_APPROVE,
                        user="U0ALICE",
                        channel=channel,
                        message_ts=ts,
                    )
                    if response.status == 200:
                        acked_clicks.append(handoff_id)
                        answered()

                async def gate(workflow: str) -> None:
                    acked_gates.append(await fleet_api.gate(session, workflow))
                    answered()

                burst = [
                    *(asyncio.create_task(click(h)) for h in first),
                    *(asyncio.create_task(gate(name)) for name in tokens for _ in range(2)),
                ]
                await asyncio.wait_for(half_answered.wait(), timeout=20)
                server.send_signal(signal.SIGKILL)
                await asyncio.gather(*burst, return_exceptions=True)
            assert acked_clicks or acked_gates
            async with services.sessions() as db, db.begin():
                # What the killed worker was sending waits out its lease (two minutes)
                # before another takes it; the test lets that time pass at once.
                await db.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.status == "sending")
                    .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
                )

            with serving(env, log) as server:
                await wait_until_up(base, server, log)

                async def drained() -> bool:
                    async with services.readers() as db:
                        waiting = await db.scalar(
                            select(func.count())
                            .select_from(OutboxMessage)
                            .where(OutboxMessage.status != "done")
                        )
                        decided = set(
                            (
                                await db.scalars(
                                    select(Decision.handoff_id).where(
                                        Decision.handoff_id.in_(acked_clicks)
                                    )
                                )
                            ).all()
                        )
                    return waiting == 0 and decided == set(acked_clicks)

                await until(drained, what="the outbox drained and the clicks decided")
                server.send_signal(signal.SIGTERM)

    posts = posts_by_key(emulator)
    assert [key for key, count in posts.items() if count > 1] == []
    assert all(posts[post_key(h)] == 1 for h in [*first, *acked_gates])
    assert all(posts[f"handoff:{h}:decision-reply"] == 1 for h in acked_clicks)
    async with services.readers() as db:
        steps = Counter(
            (
                await db.scalars(
                    select(Event.output["handoff_id"].as_string()).where(Event.type == "decision")
                )
            ).all()
        )
        reviewers = set(
            (
                await db.scalars(
                    select(Decision.reviewer).where(Decision.handoff_id.in_(acked_clicks))
                )
            ).all()
        )
    assert all(steps[h] == 1 for h in acked_clicks)
    assert reviewers <= {"U0ALICE"}
