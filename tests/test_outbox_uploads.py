"""``slack.upload`` rows: files shared exactly once through Slack's external upload, even
when an answer is lost or the upload host refuses the bytes (emulator, real HTTP)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import OutboxWorker, WorkerSettings
from bot.outbox.deliver import upload_marker
from bot.renderers.registry import Renderers, Upload, UploadFile
from bot.services import Services
from sandbox.emulator import SlackEmulator
from sandbox.models import Channel, Message
from sandbox.testing import running_emulator, web_client
from store.models import OutboxMessage, Workflow
from store.repositories import outbox as repo
from workflows.clock import ManualClock
from workflows.delivery import outbox

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
Worker = Callable[..., OutboxWorker]


async def render_pixels(db: AsyncSession, ref: str) -> Upload:
    return Upload(
        files=[UploadFile(name="pixels", title=f"pixels of {ref}", alt="a test", data=PNG)],
        comment=f"pictures of {ref}",
    )


UNJOINED = Channel("C0UNJOINED", "unjoined", members={"U0ALICE"})
SECRET = Channel("C0SECRET", "secret", members={"U0ALICE"}, is_private=True)


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    channels = [Channel("C0REVIEW", "review"), UNJOINED, SECRET]
    async with running_emulator(clock=clock, post_rate=None, channels=channels) as emu:
        yield emu


@pytest.fixture
async def seeded(services: Services, clock: ManualClock) -> Services:
    async with services.sessions() as db, db.begin():
        db.add(Workflow(name="ticket-triage", created_at=clock()))
        await outbox.upload_files(
            db, key="u1", channel="C0REVIEW", render="pixels", ref="t", now=clock()
        )
    return services


@pytest.fixture
def make_worker(seeded: Services, emulator: SlackEmulator) -> Worker:
    renderers = Renderers()
    renderers.register_upload("pixels", render_pixels)

    def make(*, timeout: float = 5.0, **settings: Any) -> OutboxWorker:
        return OutboxWorker(
            sessions=seeded.sessions,
            readers=seeded.readers,
            slack_client=web_client(emulator),
            renderers=renderers,
            clock=seeded.clock,
            settings=WorkerSettings(slack_timeout=timeout, **settings),
            rng=random.Random(7),
        )

    return make


async def row(services: Services, key: str) -> OutboxMessage:
    async with services.sessions() as db:
        found = await repo.get_outbox_message(db, key)
    assert found is not None
    return found


def shares(emulator: SlackEmulator) -> list[Message]:
    return [m for m in emulator.messages("C0REVIEW") if m.files]


async def test_files_are_shared_in_one_message(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """The file goes up with the row's marker in its name, titled, with the comment."""
    await make_worker().run_once()
    [message] = shares(emulator)
    assert message.text == "pictures of t"
    assert message.files is not None
    assert message.files[0]["name"] == f"pixels-{upload_marker('u1')}.png"
    assert message.files[0]["title"] == "pixels of t"
    assert (await row(seeded, "u1")).result == {
        "channel": "C0REVIEW",
        "files": [emulator.files[0].id],
    }


@pytest.mark.parametrize("fault", ["http_500_after_accept", "timeout_after_accept"])
async def test_a_share_whose_answer_was_lost_is_not_shared_again(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock, fault: str
) -> None:
    """Slack shared the files but the answer was lost: the retry finds them in the channel."""
    emulator.inject("files.completeUploadExternal", fault, hold=30)
    worker = make_worker(timeout=0.5)
    await worker.run_once()
    clock.advance(seconds=5)
    await worker.run_once()
    [message] = shares(emulator)
    assert len(emulator.calls_to("files.completeUploadExternal")) == 1
    assert (await row(seeded, "u1")).result == {"channel": "C0REVIEW", "ts": message.ts}


async def test_refused_bytes_are_sent_again_with_a_fresh_url(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """The upload host refusing the bytes leaves nothing shared; the retry shares once."""
    emulator.inject("upload", "http_503")
    worker = make_worker()
    await worker.run_once()
    assert shares(emulator) == []
    assert "Failed to upload a file" in str((await row(seeded, "u1")).last_error)
    clock.advance(seconds=30)
    await worker.run_once()
    assert len(shares(emulator)) == 1
    assert [f.completed for f in emulator.files] == [False, True]


async def test_an_outage_delays_the_share_and_loses_nothing(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """While Slack is down the row waits; once it is back the files are shared once."""
    emulator.inject("files.getUploadURLExternal", "http_503", times=2)
    worker = make_worker()
    for _ in range(3):
        await worker.run_once()
        clock.advance(minutes=5)
    assert len(shares(emulator)) == 1
    assert (await row(seeded, "u1")).status == "done"


async def test_an_unjoined_public_channel_is_joined_for_the_files(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """Files need membership where posts do not: the bot joins the public channel, shares."""
    async with seeded.sessions() as db, db.begin():
        await outbox.upload_files(
            db, key="u2", channel=UNJOINED.id, render="pixels", ref="t", now=seeded.clock()
        )
    await make_worker().run_once()
    assert [m.files is not None for m in emulator.messages(UNJOINED.id)] == [True]
    assert len(emulator.calls_to("conversations.join")) == 1
    assert (await row(seeded, "u2")).status == "done"


async def test_a_private_channel_waits_for_the_bot_to_be_invited(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A private channel cannot be joined: the row waits, saying so, and goes once invited."""
    async with seeded.sessions() as db, db.begin():
        await outbox.upload_files(
            db, key="u3", channel=SECRET.id, render="pixels", ref="t", now=seeded.clock()
        )
    worker = make_worker()
    await worker.run_once()
    waiting = await row(seeded, "u3")
    assert waiting.status == "pending"
    assert "not_in_channel" in str(waiting.last_error)
    emulator.invite(SECRET.id)
    clock.advance(hours=1)
    await worker.run_once()
    assert (await row(seeded, "u3")).status == "done"
    assert [m.files is not None for m in emulator.messages(SECRET.id)] == [True]
