"""The outbox worker against the Slack emulator over HTTP, on SQLite and PostgreSQL.

Time is the test's ManualClock, shared with the emulator, so retries and rate limits are
tested by moving the clock; the only real waits are client timeouts of a fraction of a
second, where the point is that the answer never came.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import OutboxWorker, PacingSettings, WorkerSettings
from bot.renderers.registry import Renderers, default_renderers
from bot.services import Services
from handlers.blocks import Message
from sandbox.emulator import SlackEmulator
from sandbox.faults import TEXT_ANSWER
from sandbox.testing import running_emulator, web_client
from store.models import OutboxMessage, Workflow
from store.repositories import outbox as repo
from workflows.clock import ManualClock
from workflows.delivery import outbox

Worker = Callable[..., OutboxWorker]


async def render_note(db: AsyncSession, ref: str) -> Message:
    """Shows the workflow's ``paused_reason`` as it is when the message goes out."""
    reason = await db.scalar(select(Workflow.paused_reason).where(Workflow.name == ref))
    text = f"note for {ref}: {reason or 'all quiet'}"
    return Message(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )


async def render_broken(db: AsyncSession, ref: str) -> Message:
    """A renderer with a bug: a section with empty text, which Slack refuses."""
    return Message(
        text="broken", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]
    )


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=clock, post_rate=None) as emu:
        yield emu


@pytest.fixture
async def seeded(services: Services, clock: ManualClock) -> Services:
    async with services.sessions() as db, db.begin():
        db.add(Workflow(name="ticket-triage", created_at=clock()))
    return services


@pytest.fixture
def make_worker(seeded: Services, emulator: SlackEmulator) -> Worker:
    renderers = Renderers({"note": render_note, "broken": render_broken})

    def make(*, slack: bool = True, timeout: float = 5.0, **settings: Any) -> OutboxWorker:
        return OutboxWorker(
            sessions=seeded.sessions,
            readers=seeded.readers,
            slack_client=web_client(emulator) if slack else None,
            renderers=renderers,
            clock=seeded.clock,
            settings=WorkerSettings(slack_timeout=timeout, **settings),
            rng=random.Random(7),
        )

    return make


async def post(services: Services, key: str, *, channel: str = "C0REVIEW", **extra: Any) -> None:
    async with services.sessions() as db, db.begin():
        await outbox.post_message(
            db,
            key=key,
            channel=channel,
            render=extra.pop("render", "note"),
            ref="ticket-triage",
            workflow="ticket-triage",
            now=services.clock(),
            **extra,
        )


async def row(services: Services, key: str) -> OutboxMessage:
    async with services.sessions() as db:
        found = await repo.get_outbox_message(db, key)
    assert found is not None
    return found


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded, about five seconds) for work running in another task to show."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def ours(emulator: SlackEmulator, channel: str, key: str) -> list[str]:
    """The ts of every message in ``channel`` that carries outbox key ``key``."""
    return [
        message.ts
        for message in emulator.messages(channel)
        if (message.event_payload or {}).get("outbox_key") == key
    ]


async def test_post_is_delivered_once_and_its_ts_is_recorded(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """A queued post reaches the channel once, and the row keeps its channel and ts."""
    await post(seeded, "p1")

    assert await make_worker().run_once() == 1

    done = await row(seeded, "p1")
    assert (done.status, done.attempts, done.sent_at) == ("done", 1, seeded.clock())
    assert done.result == {"channel": "C0REVIEW", "ts": ours(emulator, "C0REVIEW", "p1")[0]}
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1


async def test_post_renders_the_state_at_send_time(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """What changed between queueing and sending is what the message shows."""
    await post(seeded, "p1")
    async with seeded.sessions() as db, db.begin():
        await db.execute(update(Workflow).values(paused_reason="bad drafts"))

    await make_worker().run_once()

    assert emulator.messages("C0REVIEW")[0].text == "note for ticket-triage: bad drafts"


async def test_updates_wait_for_their_post_and_apply_in_order(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """While the post is unsent its updates are not claimed; then they go out in id order."""
    await post(seeded, "p1")
    for key in ("u1", "u2"):
        async with seeded.sessions() as db, db.begin():
            await outbox.update_message(
                db, key=key, message_key="p1", render="note", ref="ticket-triage", now=clock()
            )
    emulator.inject("chat.postMessage", "http_503")
    worker = make_worker()

    assert await worker.run_once() == 1
    assert emulator.calls_to("chat.update") == []
    clock.advance(seconds=5)
    assert await worker.run_once() == 3

    assert [call.method for call in emulator.calls] == [
        "chat.postMessage", "conversations.history", "chat.postMessage", "chat.update",
        "chat.update",
    ]  # fmt: skip
    (ts,) = ours(emulator, "C0REVIEW", "p1")
    assert emulator.message("C0REVIEW", ts).updates == 2
    assert [(await row(seeded, key)).status for key in ("u1", "u2")] == ["done", "done"]


async def test_ratelimited_post_comes_back_after_retry_after(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A 429 puts the row back for exactly Retry-After, uncounted, and it is sent once."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "ratelimited", retry_after=3)
    worker = make_worker()

    await worker.run_once()
    waiting = await row(seeded, "p1")
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert waiting.available_at == clock() + timedelta(seconds=3)
    clock.advance(seconds=2.9)
    assert await worker.run_once() == 0
    clock.advance(seconds=0.1)
    assert await worker.run_once() == 1

    assert len(ours(emulator, "C0REVIEW", "p1")) == 1
    assert (await row(seeded, "p1")).status == "done"


async def test_server_errors_are_retried_with_backoff_then_delivered(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """Two 500s are retried after growing backoffs; the third attempt posts it once."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "http_500", times=2)
    worker = make_worker()
    waits = []

    for _ in range(2):
        await worker.run_once()
        retried = await row(seeded, "p1")
        assert retried.status == "pending"
        assert retried.last_error == "HTTP 500 internal_error from chat.postMessage to C0REVIEW"
        waits.append((retried.available_at - clock()).total_seconds())
        clock.advance(seconds=5)
    await worker.run_once()

    assert 0.5 <= waits[0] <= 1
    assert 1 <= waits[1] <= 2
    assert (await row(seeded, "p1")).status == "done"
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1


@pytest.mark.parametrize(("fault", "status"), [("http_500_text", 500), ("http_503_text", 503)])
async def test_a_server_error_with_a_text_body_is_retried_and_says_so(
    seeded: Services,
    emulator: SlackEmulator,
    make_worker: Worker,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    status: int,
) -> None:
    """A 5xx whose body is not JSON (a proxy's text) is retried with what it said, no traceback."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", fault)
    worker = make_worker()

    await worker.run_once()
    retried = await row(seeded, "p1")
    assert (retried.status, retried.attempts) == ("pending", 1)
    assert retried.last_error == (
        f"HTTP {status} with a non-JSON body ({TEXT_ANSWER}) from chat.postMessage to C0REVIEW"
    )
    clock.advance(seconds=5)
    await worker.run_once()

    assert (await row(seeded, "p1")).status == "done"
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1
    assert [r.levelname for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_ratelimit_with_a_text_body_keeps_its_retry_after(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A 429 whose body is not JSON still puts the row back for exactly Retry-After, uncounted."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "ratelimited_text", retry_after=3)
    worker = make_worker()

    await worker.run_once()
    waiting = await row(seeded, "p1")
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert waiting.available_at == clock() + timedelta(seconds=3)
    clock.advance(seconds=3)
    assert await worker.run_once() == 1
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1


async def test_a_retry_after_beyond_reason_waits_the_longest_backoff(
    seeded: Services,
    emulator: SlackEmulator,
    make_worker: Worker,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 429 asking for years is waited out for the longest backoff, not a crash."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "ratelimited", retry_after=10**15)

    await make_worker().run_once()

    waiting = await row(seeded, "p1")
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert waiting.available_at == clock() + timedelta(seconds=600)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_an_ok_status_with_a_text_body_is_retried_after_a_look(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A 200 whose body is not JSON may hide a post: it is looked for before posting again."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "ok_text_after_accept")
    worker = make_worker()

    await worker.run_once()
    retried = await row(seeded, "p1")
    assert (retried.status, retried.last_error) == (
        "pending",
        f"HTTP 200 with a non-JSON body ({TEXT_ANSWER}) from chat.postMessage to C0REVIEW",
    )
    clock.advance(seconds=5)
    await worker.run_once()

    assert (await row(seeded, "p1")).status == "done"
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1


async def test_timeout_is_retried_then_delivered_once(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A call that never answers is retried after a look at the channel, and posted once."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "timeout", hold=30)
    worker = make_worker(timeout=0.2)

    await worker.run_once()
    retried = await row(seeded, "p1")
    assert retried.last_error == "timeout after 0.2 s from chat.postMessage to C0REVIEW"
    clock.advance(seconds=5)
    await worker.run_once()

    assert len(emulator.calls_to("conversations.history")) == 1
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1
    assert (await row(seeded, "p1")).status == "done"


@pytest.mark.parametrize("fault", ["http_500_after_accept", "timeout_after_accept"])
async def test_post_accepted_but_unanswered_is_not_posted_again(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock, fault: str
) -> None:
    """When Slack stored the post but the answer was lost, the retry finds it instead."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", fault, hold=30)
    worker = make_worker(timeout=0.2)

    await worker.run_once()
    clock.advance(seconds=5)
    await worker.run_once()

    (ts,) = ours(emulator, "C0REVIEW", "p1")
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert (await row(seeded, "p1")).result == {"channel": "C0REVIEW", "ts": ts}


async def test_row_left_sending_by_a_crashed_worker_is_found_not_reposted(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A worker that posted and died before recording it leaves a row the next one settles."""
    await post(seeded, "p1")
    async with seeded.sessions() as db, db.begin():
        (claimed,) = await repo.claim_outbox(
            db, now=clock(), lease=timedelta(minutes=2), limit=1, kinds=[outbox.SLACK_POST]
        )
    accepted = await web_client(emulator).chat_postMessage(
        channel="C0REVIEW",
        text="posted by the crashed worker",
        metadata=claimed.payload["metadata"],
    )
    worker = make_worker()

    assert await worker.run_once() == 0
    clock.advance(minutes=2, seconds=1)
    assert await worker.run_once() == 1

    done = await row(seeded, "p1")
    assert done.result == {"channel": "C0REVIEW", "ts": accepted["ts"]}
    assert (done.status, done.attempts) == ("done", 2)
    assert len(emulator.calls_to("chat.postMessage")) == 1


async def test_row_left_sending_before_posting_is_posted_by_the_next_worker(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A worker that died before posting leaves a row the next one looks for, then posts."""
    await post(seeded, "p1")
    async with seeded.sessions() as db, db.begin():
        await repo.claim_outbox(
            db, now=clock(), lease=timedelta(minutes=2), limit=1, kinds=[outbox.SLACK_POST]
        )
    clock.advance(minutes=3)

    await make_worker().run_once()

    assert len(emulator.calls_to("conversations.history")) == 1
    assert len(ours(emulator, "C0REVIEW", "p1")) == 1


async def test_hard_error_fails_at_once_with_slacks_full_error(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    """msg_too_long is final: failed after one attempt, logged with row and workflow."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "msg_too_long")

    await make_worker().run_once()

    failed = await row(seeded, "p1")
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "msg_too_long from chat.postMessage to C0REVIEW"
    assert f"outbox #{failed.id} slack.post (workflow ticket-triage) failed" in caplog.text


async def test_invalid_blocks_failure_keeps_slacks_messages(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """Slack's response_metadata.messages are kept with the error: they say which block."""
    await post(seeded, "p1", render="broken")

    await make_worker().run_once()

    failed = await row(seeded, "p1")
    assert failed.status == "failed"
    assert failed.last_error is not None
    assert failed.last_error.startswith("invalid_blocks from chat.postMessage to C0REVIEW: ")
    assert "/blocks/0/text" in failed.last_error


async def test_unknown_renderer_fails_the_row(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """A row naming a renderer nobody registered fails at once and posts nothing."""
    await post(seeded, "p1", render="nobody")

    await make_worker().run_once()

    failed = await row(seeded, "p1")
    assert failed.status == "failed"
    assert failed.last_error == "no renderer named 'nobody' (registered: broken, note)"
    assert emulator.calls == []


async def test_row_fails_after_max_attempts_with_the_last_error(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """Retries are bounded: the third 503 in a row fails it with that error."""
    await post(seeded, "p1")
    emulator.inject("chat.postMessage", "http_503", times=None)
    worker = make_worker(max_attempts=3)

    for _ in range(3):
        await worker.run_once()
        clock.advance(seconds=5)

    failed = await row(seeded, "p1")
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.last_error == (
        "HTTP 503 service_unavailable from chat.postMessage to C0REVIEW (gave up after 3 attempts)"
    )


async def test_reply_waits_for_its_parent_and_lands_in_its_thread(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A thread reply queued with its own ordering key still waits for the parent's ts."""
    await post(seeded, "parent")
    await post(seeded, "reply", thread_of="parent")
    emulator.inject("chat.postMessage", "http_503")
    worker = make_worker()

    await worker.run_once()
    assert (await row(seeded, "reply")).attempts == 0
    for _ in range(2):
        clock.advance(seconds=5)
        await worker.run_once()

    parent_ts = (await row(seeded, "parent")).result or {}
    replies = [m for m in emulator.messages("C0REVIEW") if m.thread_ts == parent_ts["ts"]]
    assert [(m.event_payload or {}).get("outbox_key") for m in replies] == ["reply"]


async def test_posts_to_one_channel_are_paced_not_rejected(
    seeded: Services, make_worker: Worker, clock: ManualClock
) -> None:
    """With Slack at 1 post/s per channel, the worker spaces posts instead of meeting 429s."""
    async with running_emulator(clock=clock, post_rate=1.0, post_burst=1) as limited:
        worker = OutboxWorker(
            sessions=seeded.sessions,
            slack_client=web_client(limited),
            renderers=Renderers({"note": render_note}),
            clock=clock,
        )
        for key in ("p1", "p2", "p3"):
            await post(seeded, key)

        delivered = [await worker.run_once()]
        for _ in range(2):
            clock.advance(seconds=1)
            delivered.append(await worker.run_once())

        assert delivered == [1, 1, 1]
        assert [call.status for call in limited.calls] == [200, 200, 200]
        assert len(limited.messages("C0REVIEW")) == 3


async def test_different_channels_are_sent_side_by_side(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """Posts to three channels are all in flight before Slack answers the first."""
    for key, channel in (("a", "C0REVIEW"), ("b", "C0ONCALL"), ("c", "C0GENERAL")):
        await post(seeded, key, channel=channel)
    emulator.inject("chat.postMessage", "slow", times=3, hold=30)

    running = asyncio.create_task(make_worker().run_once())
    await eventually(lambda: len(emulator.calls_to("chat.postMessage")) == 3, "three posts held")
    emulator.release()

    assert await running == 3


async def test_held_rows_wait_until_released(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker, clock: ManualClock
) -> None:
    """A paused workflow's post is not claimed; once released it goes out."""
    async with seeded.sessions() as db, db.begin():
        await outbox.enqueue(
            db,
            kind=outbox.SLACK_POST,
            dedupe_key="p1",
            payload={"channel": "C0REVIEW", "render": "note", "ref": "ticket-triage"},
            workflow="ticket-triage",
            now=clock(),
            held=True,
        )
    worker = make_worker()

    assert await worker.run_once() == 0
    async with seeded.sessions() as db, db.begin():
        await outbox.release_held(db, workflow="ticket-triage", now=clock())
    assert await worker.run_once() == 1


async def test_without_slack_client_slack_rows_wait(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """With no Slack configured the post stays pending, untouched, for a later start."""
    await post(seeded, "p1")

    assert await make_worker(slack=False).run_once() == 0
    assert ((await row(seeded, "p1")).status, emulator.calls) == ("pending", [])


async def test_started_worker_delivers_after_wake_and_stops(
    seeded: Services, emulator: SlackEmulator, make_worker: Worker
) -> None:
    """The background loop picks up a row queued after it started, then stops cleanly."""
    worker = make_worker(poll_interval=30)
    worker.start()
    try:
        await post(seeded, "p1")
        worker.wake()
        await eventually(lambda: bool(ours(emulator, "C0REVIEW", "p1")), "the post")
    finally:
        await worker.stop()

    assert (await row(seeded, "p1")).status == "done"


def test_default_renderers_show_handoffs_and_decision_replies() -> None:
    """The renderers the domain queues are registered under the domain's names."""
    assert sorted(default_renderers()) == ["decision_reply", "handoff", "handoff_draft_part"]


def test_a_renderer_name_is_registered_once() -> None:
    """Registering a taken name is refused rather than silently replacing a renderer."""
    renderers = Renderers({"note": render_note})

    with pytest.raises(ValueError, match="'note' is already registered"):
        renderers.register("note", render_broken)


def test_pacing_settings_refuse_a_zero_rate() -> None:
    """A zero rate would never send; it is refused when the settings are built."""
    with pytest.raises(ValueError, match="rates must be positive"):
        PacingSettings(channel_rate=0)
