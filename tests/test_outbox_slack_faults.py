"""Slack answering with bodies that are not JSON, or not at all: delayed, then sent once.

What a proxy or load balancer in front of Slack sends (a 429 in plain text, an HTML 502,
a 503 from an upstream), and a call that hangs past the client's timeout. Time is the
test's ManualClock, shared with the emulator; the only real waits are client timeouts
of a fraction of a second.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import OutboxWorker, WorkerSettings
from bot.renderers.registry import Renderers
from bot.services import Services
from handlers.blocks import Message
from sandbox.emulator import SlackEmulator
from sandbox.testing import running_emulator, web_client
from store.models import OutboxMessage, Workflow
from store.repositories import outbox as repo
from workflows.clock import ManualClock
from workflows.delivery import outbox

KEY = "p1"


async def render_note(db: AsyncSession, ref: str) -> Message:
    text = f"note for {ref}"
    return Message(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=clock, post_rate=None) as emu:
        yield emu


@pytest.fixture
async def queued(services: Services, clock: ManualClock) -> Services:
    """A workflow and one post waiting in the outbox."""
    async with services.sessions() as db, db.begin():
        db.add(Workflow(name="ticket-triage", created_at=clock()))
    async with services.sessions() as db, db.begin():
        await outbox.post_message(
            db,
            key=KEY,
            channel="C0REVIEW",
            render="note",
            ref="ticket-triage",
            workflow="ticket-triage",
            now=clock(),
        )
    return services


def worker(services: Services, emulator: SlackEmulator) -> OutboxWorker:
    return OutboxWorker(
        sessions=services.sessions,
        readers=services.readers,
        slack_client=web_client(emulator),
        renderers=Renderers({"note": render_note}),
        clock=services.clock,
        settings=WorkerSettings(slack_timeout=0.2),
        rng=random.Random(7),
    )


async def row(services: Services) -> OutboxMessage:
    async with services.sessions() as db:
        found = await repo.get_outbox_message(db, KEY)
    assert found is not None
    return found


def posted(emulator: SlackEmulator) -> int:
    """How many messages in the channel carry the queued post's outbox key."""
    return sum(
        1
        for message in emulator.messages("C0REVIEW")
        if (message.event_payload or {}).get("outbox_key") == KEY
    )


@pytest.mark.parametrize(
    "fault", ["ratelimited_text", "http_500_text", "http_502_text", "http_503_text", "timeout"]
)
async def test_a_post_slack_failed_is_delayed_then_sent_once(
    queued: Services, emulator: SlackEmulator, clock: ManualClock, fault: str
) -> None:
    """Three failed answers in a row leave the post waiting, then it is posted exactly once."""
    emulator.inject("chat.postMessage", fault, times=3, hold=30, retry_after=2)
    delivering = worker(queued, emulator)
    for _ in range(3):
        await delivering.run_once()
        waiting = await row(queued)
        assert waiting.status == "pending"
        assert posted(emulator) == 0
        clock.advance(seconds=max((waiting.available_at - clock()).total_seconds(), 0) + 1)
    await delivering.run_once()
    assert (await row(queued)).status == "done"
    assert posted(emulator) == 1


async def test_an_update_slack_failed_is_delayed_then_sent_once(
    queued: Services, emulator: SlackEmulator, clock: ManualClock
) -> None:
    """An in-place update that meets an HTML 502 and then a hang is applied once, later."""
    delivering = worker(queued, emulator)
    await delivering.run_once()
    async with queued.sessions() as db, db.begin():
        await outbox.update_message(
            db, key="u1", message_key=KEY, render="note", ref="ticket-triage", now=clock()
        )
    emulator.inject("chat.update", "http_502_text")
    emulator.inject("chat.update", "timeout", hold=30)
    for _ in range(2):
        await delivering.run_once()
        clock.advance(minutes=1)
    await delivering.run_once()
    async with queued.sessions() as db:
        update = await repo.get_outbox_message(db, "u1")
    assert update is not None
    assert update.status == "done"
    [message] = [m for m in emulator.messages("C0REVIEW")]
    assert message.updates == 1
    assert clock() - timedelta(minutes=2) >= update.created_at
