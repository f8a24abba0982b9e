"""Claiming and settling outbox rows in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bot.outbox import OutboxWorker
from bot.outbox.settings import WorkerSettings
from bot.renderers.registry import Renderers
from bot.services import Services
from handlers.blocks import Message
from sandbox.testing import running_emulator, web_client
from store.models import OutboxMessage
from store.repositories import outbox as repo
from workflows.clock import ManualClock
from workflows.delivery import outbox

LEASE = timedelta(minutes=2)
SLACK = (outbox.SLACK_POST, outbox.SLACK_UPDATE)


async def queue_post(services: Services, key: str, *, channel: str = "C0REVIEW") -> None:
    async with services.sessions() as db, db.begin():
        await outbox.post_message(
            db, key=key, channel=channel, render="text", ref=key, now=services.clock()
        )


async def queue_update(services: Services, key: str, *, of: str) -> None:
    async with services.sessions() as db, db.begin():
        await outbox.update_message(
            db, key=key, message_key=of, render="text", ref=key, now=services.clock()
        )


async def claim(services: Services, *, limit: int = 10) -> list[str]:
    async with services.sessions() as db, db.begin():
        rows = await repo.claim_outbox(
            db, now=services.clock(), lease=LEASE, limit=limit, kinds=SLACK
        )
    return [row.dedupe_key for row in rows]


async def test_claim_skips_rows_behind_an_unsettled_row_with_their_ordering_key(
    services: Services,
) -> None:
    """An update is not claimable while the post it edits is pending or being sent."""
    await queue_post(services, "p1")
    await queue_update(services, "u1", of="p1")
    await queue_post(services, "p2", channel="C0ONCALL")

    assert await claim(services) == ["p1", "p2"]
    assert await claim(services) == []


async def test_claim_takes_one_post_per_channel(services: Services) -> None:
    """A second post to a channel waits for the next claim: it could only be paced back."""
    for key, channel in (("p1", "C0REVIEW"), ("p2", "C0REVIEW"), ("p3", "C0ONCALL")):
        await queue_post(services, key, channel=channel)

    assert await claim(services) == ["p1", "p3"]
    assert await claim(services) == ["p2"]


async def test_claim_leaves_posts_to_held_back_channels(services: Services) -> None:
    """Posts to channels the pacer holds back stay pending; other rows are claimed."""
    await queue_post(services, "p1", channel="C0REVIEW")
    await queue_post(services, "p2", channel="C0ONCALL")

    async with services.sessions() as db, db.begin():
        rows = await repo.claim_outbox(
            db,
            now=services.clock(),
            lease=LEASE,
            limit=10,
            kinds=SLACK,
            skip_channels={"C0REVIEW"},
        )
        held_back_due = await repo.next_due_at(db, kinds=SLACK, skip_channels={"C0REVIEW"})

    assert [row.dedupe_key for row in rows] == ["p2"]
    assert held_back_due is None


async def test_claim_takes_the_next_row_once_the_older_one_is_done(
    services: Services, clock: ManualClock
) -> None:
    """Marking the post done makes its first update, and only that one, claimable."""
    await queue_post(services, "p1")
    await queue_update(services, "u1", of="p1")
    await queue_update(services, "u2", of="p1")
    async with services.sessions() as db, db.begin():
        (post,) = await repo.claim_outbox(db, now=clock(), lease=LEASE, limit=1, kinds=SLACK)
        await repo.mark_done(db, post, result={"channel": "C0REVIEW", "ts": "1.0"}, now=clock())

    assert await claim(services) == ["u1"]


async def test_claim_takes_over_an_expired_claim_and_marks_it_maybe_sent(
    services: Services, clock: ManualClock
) -> None:
    """A row whose worker's lease ran out is claimed again, flagged as possibly sent."""
    await queue_post(services, "p1")
    await claim(services)
    clock.advance(minutes=1)
    assert await claim(services) == []
    clock.advance(minutes=1, seconds=1)

    async with services.sessions() as db, db.begin():
        (row,) = await repo.claim_outbox(db, now=clock(), lease=LEASE, limit=1, kinds=SLACK)

    assert (row.attempts, row.result, row.last_error) == (2, repo.MAYBE_SENT, repo.LEASE_EXPIRED)
    assert row.claimed_until == clock() + LEASE


async def test_settling_a_claim_that_was_taken_over_changes_nothing(
    services: Services, clock: ManualClock
) -> None:
    """The slow first worker's late "done" is refused once a second worker holds the row."""
    await queue_post(services, "p1")
    async with services.sessions() as db, db.begin():
        (first,) = await repo.claim_outbox(db, now=clock(), lease=LEASE, limit=1, kinds=SLACK)
    clock.advance(minutes=3)
    async with services.sessions() as db, db.begin():
        (second,) = await repo.claim_outbox(db, now=clock(), lease=LEASE, limit=1, kinds=SLACK)

    async with services.sessions() as db, db.begin():
        late = await repo.mark_done(db, first, result={"ts": "late"}, now=clock())
        kept = await repo.mark_failed(db, second, error="channel_not_found", now=clock())

    assert (late, kept) == (False, True)
    async with services.sessions() as db:
        row = await repo.get_outbox_message(db, "p1")
    assert row is not None
    assert (row.status, row.last_error) == ("failed", "channel_not_found")


async def test_paced_row_gets_its_attempt_back(services: Services, clock: ManualClock) -> None:
    """A row put back unattempted keeps its attempt count and comes due at the given time."""
    await queue_post(services, "p1")
    async with services.sessions() as db, db.begin():
        (row,) = await repo.claim_outbox(db, now=clock(), lease=LEASE, limit=1, kinds=SLACK)
        at = clock() + timedelta(seconds=1)
        await repo.reschedule(
            db, row, available_at=at, error=None, attempted=False, mark_maybe_sent=False
        )
        assert await repo.next_due_at(db, kinds=SLACK) == at

    async with services.sessions() as db:
        again = await repo.get_outbox_message(db, "p1")
    assert again is not None
    assert (again.status, again.attempts) == ("pending", 0)


async def test_two_workers_at_once_deliver_each_row_once(
    services: Services, clock: ManualClock
) -> None:
    """Two workers claiming side by side post each message once between them."""
    channels = {f"C{i:03d}": f"c{i}" for i in range(40)}

    async def render(_db: object, ref: str) -> Message:
        return Message(text=ref, blocks=[])

    for index, channel in enumerate(channels):
        await queue_post(services, f"p{index}", channel=channel)
    async with running_emulator(clock=clock, channels=channels, post_rate=None) as emulator:
        workers = [
            OutboxWorker(
                sessions=services.sessions,
                slack_client=web_client(emulator),
                renderers=Renderers({"text": render}),
                clock=clock,
                rng=random.Random(seed),
                # Few rows per claim, so each worker claims many times and the two interleave.
                settings=WorkerSettings(concurrency=4),
            )
            for seed in (1, 2)
        ]

        handled = await asyncio.gather(*(worker.run_once() for worker in workers))
        clock.advance(seconds=5)  # past the workspace cap's burst of 20 writes per worker
        handled += await asyncio.gather(*(worker.run_once() for worker in workers))

        posted = Counter(
            (message.event_payload or {}).get("outbox_key")
            for channel in channels
            for message in emulator.messages(channel)
        )
    assert sum(handled) == 40
    # Which worker delivers what is up to timing: one that finds every due row locked by
    # the other backs off (SKIP LOCKED), so only the totals are fixed.
    assert sum(worker.stats["done"] for worker in workers) == 40
    assert set(posted.values()) == {1}
    assert len(posted) == 40
    async with services.sessions() as db:
        statuses = set((await db.scalars(select(OutboxMessage.status))).all())
    assert statuses == {"done"}
