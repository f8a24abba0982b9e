"""The outbox under Slack's access rules (the strict emulator): it waits, reports once, and
delivers once the operator fixed the scope or the membership."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import OutboxWorker, WorkerSettings
from bot.renderers.registry import Renderers
from bot.services import Services
from handlers.blocks import Message
from sandbox.emulator import SlackEmulator
from sandbox.models import Channel
from sandbox.scopes import manifest_scopes
from sandbox.testing import running_emulator, web_client
from sandbox.workspace import default_channels
from store.models import OutboxMessage, Workflow
from store.repositories import outbox as repo
from workflows.clock import ManualClock
from workflows.delivery import outbox

Worker = Callable[..., OutboxWorker]
PRIVATE_REVIEW = Channel("C0PRIVREV", "private-review", members={"U0ALICE"}, is_private=True)
UNJOINED = Channel("C0UNJOINED", "unjoined", members={"U0ALICE"})


async def render_note(db: AsyncSession, ref: str) -> Message:
    return Message(text=f"note for {ref}", blocks=[])


@pytest.fixture
async def seeded(services: Services, clock: ManualClock) -> Services:
    async with services.sessions() as db, db.begin():
        db.add(Workflow(name="ticket-triage", created_at=clock()))
    return services


def make_worker(services: Services, emulator: SlackEmulator, **settings: Any) -> OutboxWorker:
    return OutboxWorker(
        sessions=services.sessions,
        readers=services.readers,
        slack_client=web_client(emulator),
        renderers=Renderers({"note": render_note}),
        clock=services.clock,
        settings=WorkerSettings(**settings),
        rng=random.Random(7),
    )


def strict(clock: ManualClock, **seeds: Any) -> Any:
    channels = [*default_channels(), PRIVATE_REVIEW, UNJOINED]
    return running_emulator(clock=clock, post_rate=None, channels=channels, **seeds)


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with strict(clock) as emu:
        yield emu


async def post(services: Services, key: str, channel: str) -> None:
    async with services.sessions() as db, db.begin():
        await outbox.post_message(
            db,
            key=key,
            channel=channel,
            render="note",
            ref="ticket-triage",
            workflow="ticket-triage",
            now=services.clock(),
        )


async def row(services: Services, key: str) -> OutboxMessage:
    async with services.sessions() as db:
        found = await repo.get_outbox_message(db, key)
    assert found is not None
    return found


def reports(caplog: pytest.LogCaptureFixture, fix: str) -> int:
    return sum(fix in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


async def test_a_private_channel_without_the_bot_waits_then_delivers_once_invited(
    seeded: Services, emulator: SlackEmulator, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages wait (not failed) with one report naming the fix, and go out once invited."""
    await post(seeded, "p1", PRIVATE_REVIEW.id)
    await post(seeded, "p2", PRIVATE_REVIEW.id)
    worker = make_worker(seeded, emulator)

    for _ in range(3):
        await worker.run_once()
        clock.advance(seconds=61)
    waiting = await row(seeded, "p1")
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert reports(caplog, f"invite @Handrail to <#{PRIVATE_REVIEW.id}>") == 1

    emulator.invite(PRIVATE_REVIEW.id)
    await worker.run_once()
    clock.advance(seconds=2)  # the channel's pace: one message a second
    await worker.run_once()

    assert (await row(seeded, "p1")).status == (await row(seeded, "p2")).status == "done"
    assert len(emulator.messages(PRIVATE_REVIEW.id)) == 2


async def test_a_missing_scope_waits_with_one_report_until_it_is_granted(
    seeded: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Without chat:write every post waits and the log says once which scope to add."""
    granted = manifest_scopes() - {"chat:write"}
    async with strict(clock, scopes=granted) as emulator:
        await post(seeded, "p1", "C0REVIEW")
        worker = make_worker(seeded, emulator)
        for _ in range(3):
            await worker.run_once()
            clock.advance(seconds=61)
        assert (await row(seeded, "p1")).status == "pending"
        assert reports(caplog, "add the scope chat:write") == 1

        emulator.workspace.scopes = manifest_scopes()
        await worker.run_once()

        assert (await row(seeded, "p1")).status == "done"


async def test_a_lost_answer_in_an_unjoined_public_channel_joins_and_finds_the_post(
    seeded: Services, emulator: SlackEmulator, clock: ManualClock
) -> None:
    """chat:write.public posts without membership; the lookup joins, then reads, not reposts."""
    await post(seeded, "p1", UNJOINED.id)
    emulator.inject("chat.postMessage", "timeout_after_accept", hold=30)
    worker = make_worker(seeded, emulator, slack_timeout=0.2)

    await worker.run_once()
    clock.advance(seconds=5)
    await worker.run_once()

    assert len(emulator.calls_to("conversations.join")) == 1
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert (await row(seeded, "p1")).status == "done"


async def test_a_lost_answer_it_cannot_look_for_waits_instead_of_failing(
    seeded: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Without channels:join the lookup cannot read the channel: the row waits, reported once."""
    async with strict(clock, scopes=manifest_scopes() - {"channels:join"}) as emulator:
        await post(seeded, "p1", UNJOINED.id)
        emulator.inject("chat.postMessage", "timeout_after_accept", hold=30)
        worker = make_worker(seeded, emulator, slack_timeout=0.2)
        await worker.run_once()
        for _ in range(3):
            clock.advance(seconds=61)
            await worker.run_once()

        assert (await row(seeded, "p1")).status == "pending"
        assert reports(caplog, "add the scope channels:join") == 1
        assert len(emulator.calls_to("chat.postMessage")) == 1


async def test_a_dm_to_a_person_goes_through_conversations_open(
    seeded: Services, emulator: SlackEmulator
) -> None:
    """A post addressed to a user ID lands in the D… conversation conversations.open gave."""
    await post(seeded, "dm1", "U0ALICE")

    await make_worker(seeded, emulator).run_once()

    assert len(emulator.calls_to("conversations.open")) == 1
    assert (await row(seeded, "dm1")).result["channel"] == "D0ALICE"  # type: ignore[index]
    assert len(emulator.messages("D0ALICE")) == 1


async def test_an_unknown_channel_waits_then_delivers_once_it_exists(
    seeded: Services, emulator: SlackEmulator, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """channel_not_found is a person's to fix: the row waits, reported once, then goes out."""
    later = Channel("C0LATER", "later")
    await post(seeded, "p1", later.id)
    worker = make_worker(seeded, emulator)

    for _ in range(3):
        await worker.run_once()
        clock.advance(seconds=61)
    waiting = await row(seeded, "p1")
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert (
        waiting.last_error
        == "waiting for access: channel_not_found from chat.postMessage to C0LATER"
    )
    assert reports(caplog, "check the channel ID C0LATER in workflows.yml") == 1

    emulator.create_channel(later)
    await worker.run_once()

    assert (await row(seeded, "p1")).status == "done"
    assert len(emulator.messages(later.id)) == 1


async def test_an_archived_channel_holds_posts_and_updates_until_unarchived(
    seeded: Services, emulator: SlackEmulator, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A channel archived with an open message in it: the update and a new post wait, each
    said once, and both go out once it is unarchived; nothing is failed or sent twice."""
    await post(seeded, "p1", "C0REVIEW")
    worker = make_worker(seeded, emulator)
    await worker.run_once()
    emulator.archive("C0REVIEW")
    async with seeded.sessions() as db, db.begin():
        await outbox.update_message(
            db,
            key="u1",
            message_key="p1",
            render="note",
            ref="ticket-triage",
            workflow="ticket-triage",
            now=clock(),
        )
    await post(seeded, "p2", "C0REVIEW")

    for _ in range(3):
        clock.advance(seconds=61)
        await worker.run_once()
    assert {(await row(seeded, key)).status for key in ("u1", "p2")} == {"pending"}
    assert reports(caplog, "unarchive <#C0REVIEW>") == 1

    emulator.unarchive("C0REVIEW")
    clock.advance(seconds=61)
    await worker.run_once()
    clock.advance(seconds=2)
    await worker.run_once()

    assert {(await row(seeded, key)).status for key in ("u1", "p2")} == {"done"}
    assert len(emulator.messages("C0REVIEW")) == 2
    assert len(emulator.calls_to("chat.update")) >= 1


async def test_a_refused_token_waits_with_one_report_for_every_channel(
    seeded: Services, emulator: SlackEmulator, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """account_inactive for minutes: posts to two channels wait, the token fix is said once,
    and each goes out once when Slack takes the token again."""
    await post(seeded, "p1", "C0REVIEW")
    await post(seeded, "p2", PRIVATE_REVIEW.id)
    emulator.invite(PRIVATE_REVIEW.id)
    emulator.inject("chat.postMessage", "account_inactive", times=4)
    worker = make_worker(seeded, emulator)

    for _ in range(2):
        await worker.run_once()
        clock.advance(seconds=61)
    assert {(await row(seeded, key)).status for key in ("p1", "p2")} == {"pending"}
    assert reports(caplog, "set SLACK_BOT_TOKEN") == 1

    await worker.run_once()

    assert {(await row(seeded, key)).status for key in ("p1", "p2")} == {"done"}
    assert len(emulator.messages("C0REVIEW")) == len(emulator.messages(PRIVATE_REVIEW.id)) == 1
