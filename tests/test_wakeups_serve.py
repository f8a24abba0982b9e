"""Two real ``handrail serve`` processes on one database, Slack played by the emulator:
what one process records wakes the other at once. Re-reads, outbox polls and long-polls
are set to 60 s, and every wait here gives up well before that, so only a wake-up can
produce what these tests await."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import text

from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from sandbox.workspace import DEFAULT_TOKEN
from store.engine import create_engine, create_sessions
from tests.conftest import TEST_WORKFLOWS, Database, bearer
from tests.slack_harness import REVIEW_CHANNEL, SIGNING_SECRET, eventually
from tests.test_cli import _free_port
from workflows import credentials
from workflows.clock import ManualClock
from workflows.review.handoff_keys import post_key

ROOT = Path(__file__).parent.parent
LONGER_THAN_ANY_TEST = "60"


@dataclass
class Instance:
    process: subprocess.Popen[bytes]
    base: str


@dataclass
class Pair:
    """``writer`` runs the outbox worker; ``reader`` does not, and holds the long-polls."""

    writer: Instance
    reader: Instance
    token: str
    emulator: SlackEmulator
    http: aiohttp.ClientSession

    async def open_review(self, on: Instance) -> str:
        headers = bearer(self.token)
        async with self.http.post(f"{on.base}/api/v1/runs", json={}, headers=headers) as reply:
            run_id = (await reply.json())["run_id"]
        gate = {"action": "send_reply", "draft": "Your refund is on its way.", "confidence": 0.9}
        url = f"{on.base}/api/v1/runs/{run_id}/gate"
        async with self.http.post(url, json=gate, headers=headers) as reply:
            body = await reply.json()
        assert body["verdict"] == "review", body
        return str(body["handoff_id"])

    async def posted(self, handoff_id: str) -> str:
        """The ts of the handoff's message, once the writer's outbox worker has posted it."""

        async def probe() -> str | None:
            for message in self.emulator.messages(REVIEW_CHANNEL):
                if (message.event_payload or {}).get("outbox_key") == post_key(handoff_id):
                    return message.ts
            return None

        return await eventually(probe, what=f"the message of {handoff_id}", tries=1500)

    async def poll(self, on: Instance, handoff_id: str) -> dict[str, Any]:
        """What an automation long-polling ``on`` for the decision gets back."""
        url = f"{on.base}/api/v1/handoffs/{handoff_id}?wait={LONGER_THAN_ANY_TEST}"
        async with self.http.get(url, headers=bearer(self.token)) as reply:
            body: dict[str, Any] = await reply.json()
            return body

    async def click_approve_once_polled(self, handoff_id: str) -> dict[str, Any]:
        """Long-poll the reader; once it is waiting, approve through the writer's Slack
        endpoint; return what the long-poll answered."""
        ts = await self.posted(handoff_id)
        poll = asyncio.create_task(self.poll(self.reader, handoff_id))

        async def waiting() -> bool | None:
            return await self.long_polls_waiting(self.reader) >= 1 or None

        await eventually(waiting, what="the long-poll to be waiting", tries=1500)
        async with SlackDriver(self.writer.base, SIGNING_SECRET, self.emulator) as driver:
            clicked = await driver.click(
                action_id="handoff-approve", user="U0ALICE", channel=REVIEW_CHANNEL, message_ts=ts
            )
        assert clicked.status == 200
        return await asyncio.wait_for(poll, 30)

    async def long_polls_waiting(self, on: Instance) -> float:
        async with self.http.get(f"{on.base}/metrics") as reply:
            for line in (await reply.text()).splitlines():
                if line.startswith("handrail_long_polls_waiting "):
                    return float(line.split()[1])
        return 0.0


def start(env: dict[str, str], **overrides: str) -> Instance:
    port = str(_free_port())
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve"],
        env={**env, **overrides, "HANDRAIL_PORT": port},
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    return Instance(process, f"http://127.0.0.1:{port}")


async def until_up(http: aiohttp.ClientSession, instance: Instance) -> None:
    async def probe() -> None:
        while True:
            try:
                async with http.get(f"{instance.base}/healthz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)

    await asyncio.wait_for(probe(), 60)


def stop(instance: Instance) -> None:
    """Terminate; a process still holding a long-poll after 20 s (a failed test) is killed."""
    instance.process.terminate()
    try:
        instance.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        instance.process.kill()
        instance.process.wait(timeout=20)


async def create_token(database: Database) -> str:
    engine = create_engine(database.url, schema=database.schema)
    async with create_sessions(engine)() as db, db.begin():
        token, _ = await credentials.create_token(
            db,
            workflow="ticket-triage",
            scopes=credentials.DEFAULT_SCOPES,
            expires_in=None,
            label="test",
            now=ManualClock()(),
        )
    await engine.dispose()
    return token


@pytest.fixture
async def pair(database: Database, tmp_path: Path) -> AsyncIterator[Pair]:
    config = tmp_path / "workflows.yml"
    config.write_text(yaml.safe_dump(TEST_WORKFLOWS))
    async with SlackEmulator(post_rate=None) as emulator, aiohttp.ClientSession() as http:
        env = {
            **os.environ,
            "HANDRAIL_DATABASE_URL": database.url,
            "HANDRAIL_CONFIG": str(config),
            "HANDRAIL_SCHEDULER": "false",
            "HANDRAIL_REREAD_SECONDS": LONGER_THAN_ANY_TEST,
            "HANDRAIL_OUTBOX_POLL_SECONDS": LONGER_THAN_ANY_TEST,
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": emulator.api_url,
        }
        if database.schema:
            env["HANDRAIL_DATABASE_SCHEMA"] = database.schema
        # The writer starts last, so its outbox worker's first long sleep begins just
        # before the test; the reader adds the workflow rows the token needs.
        reader = start(env, HANDRAIL_OUTBOX_WORKER="false")
        writer = None
        try:
            await until_up(http, reader)
            token = await create_token(database)
            writer = start(env, HANDRAIL_OUTBOX_WORKER="true")
            await until_up(http, writer)
            yield Pair(writer, reader, token, emulator, http)
        finally:
            for instance in (reader, writer):
                if instance is not None:
                    await asyncio.to_thread(stop, instance)


async def test_a_row_queued_by_one_process_is_posted_by_the_others_outbox_worker(
    pair: Pair,
) -> None:
    """A review opened on a process without an outbox worker is posted to Slack by the
    other process's worker well before that worker's next poll."""
    handoff_id = await pair.open_review(on=pair.reader)
    assert await pair.posted(handoff_id)


async def test_a_click_on_one_process_wakes_a_long_poll_on_the_other(pair: Pair) -> None:
    """Approve clicked through one process answers the long-poll held by the other."""
    handoff_id = await pair.open_review(on=pair.writer)
    answer = await pair.click_approve_once_polled(handoff_id)
    assert answer["status"] == "approved"


async def listener_pids(database: Database, pattern: str, *, terminate: bool = False) -> set[int]:
    """The backends whose application name matches ``pattern``, terminated if asked (each
    call is its own transaction: pg_stat_activity is a snapshot within one)."""
    engine = create_engine(database.url)
    query = (
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE :pattern"
        " AND (NOT :terminate OR pg_terminate_backend(pid))"
    )
    async with engine.begin() as connection:
        pids = set(
            (
                await connection.execute(text(query), {"pattern": pattern, "terminate": terminate})
            ).scalars()
        )
    await engine.dispose()
    return pids


@pytest.mark.parametrize(
    "database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_long_poll_is_woken_again_after_its_listener_was_killed(
    pair: Pair, database: Database
) -> None:
    """With the reader's LISTEN connection terminated (as a PostgreSQL restart would), the
    reader reconnects by itself and a decision made elsewhere wakes its long-poll again."""
    pattern = f"handrail-wakeups {pair.reader.process.pid} %"
    killed = await listener_pids(database, pattern, terminate=True)
    assert killed

    async def relistening() -> bool | None:
        return bool(await listener_pids(database, pattern) - killed) or None

    await eventually(relistening, what="the listener to reconnect", tries=1500)
    handoff_id = await pair.open_review(on=pair.writer)
    answer = await pair.click_approve_once_polled(handoff_id)
    assert answer["status"] == "approved"
