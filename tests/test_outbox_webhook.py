"""Webhook deliveries to a real aiohttp receiver, verified the way an automation would."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.outbox import OutboxWorker, WorkerSettings
from bot.outbox.runtime import callback_secrets
from bot.renderers.registry import Renderers
from bot.services import Services
from store.repositories import outbox as repo
from tests.callback_receiver import SECRET, Receiver, receiving_callbacks, webhook_worker
from workflows.clock import ManualClock
from workflows.config.brief import load_config
from workflows.delivery import outbox


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving_callbacks() as receiver:
        yield receiver


@pytest.fixture
async def worker(services: Services) -> AsyncIterator[OutboxWorker]:
    async with webhook_worker(services.sessions, services.clock) as worker:
        yield worker


async def queue_webhook(services: Services, url: str, *, workflow: str = "ticket-triage") -> None:
    async with services.sessions() as db, db.begin():
        await outbox.enqueue(
            db,
            kind=outbox.WEBHOOK,
            dedupe_key="handoff:h1:webhook",
            payload={
                "url": url,
                "workflow": workflow,
                "body": {"handoff_id": "h1", "outcome": "approved", "note": "naïve ✓"},
                "idempotency_key": "handoff:h1:webhook",
            },
            workflow=workflow,
            now=services.clock(),
        )


async def status_of(services: Services) -> tuple[str, int, str | None]:
    async with services.sessions() as db:
        row = await repo.get_outbox_message(db, "handoff:h1:webhook")
    assert row is not None
    return row.status, row.attempts, row.last_error


async def test_webhook_is_signed_over_timestamp_and_body(
    services: Services, receiver: Receiver, worker: OutboxWorker, clock: ManualClock
) -> None:
    """The receiver can verify the HMAC of "timestamp.body" and sees the idempotency key."""
    await queue_webhook(services, receiver.url)

    assert await worker.run_once() == 1

    ((headers, body),) = receiver.received
    timestamp = headers["X-Handrail-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(headers["X-Handrail-Signature"], f"v1={expected.hexdigest()}")
    assert int(timestamp) == int(clock().timestamp())
    assert headers["X-Handrail-Idempotency-Key"] == "handoff:h1:webhook"
    assert json.loads(body)["note"] == "naïve ✓"
    assert await status_of(services) == ("done", 1, None)


async def test_webhook_500_is_retried_then_delivered(
    services: Services, receiver: Receiver, worker: OutboxWorker, clock: ManualClock
) -> None:
    """A 500 is retried after a backoff with the same key; the next 200 settles it."""
    await queue_webhook(services, receiver.url)
    receiver.answers.append((500, "database is down"))

    await worker.run_once()
    assert await status_of(services) == (
        "pending",
        1,
        f"HTTP 500 from POST {receiver.url}: database is down",
    )
    clock.advance(seconds=5)
    await worker.run_once()

    assert [headers["X-Handrail-Idempotency-Key"] for headers, _ in receiver.received] == [
        "handoff:h1:webhook"
    ] * 2
    assert (await status_of(services))[0] == "done"


async def test_webhook_4xx_fails_with_the_response_text(
    services: Services, receiver: Receiver, worker: OutboxWorker
) -> None:
    """A 400 is the receiver refusing this body: failed at once, with what it said."""
    await queue_webhook(services, receiver.url)
    receiver.answers.append((400, "unknown handoff h1"))

    await worker.run_once()

    assert await status_of(services) == (
        "failed",
        1,
        f"HTTP 400 from POST {receiver.url}: unknown handoff h1",
    )


async def test_webhook_408_is_retried(
    services: Services, receiver: Receiver, worker: OutboxWorker
) -> None:
    """408 is a 4xx that means "try again", so the row goes back to pending."""
    await queue_webhook(services, receiver.url)
    receiver.answers.append((408, "slow down"))

    await worker.run_once()

    assert (await status_of(services))[0] == "pending"


async def test_webhook_429_with_a_text_body_waits_its_retry_after(
    services: Services, receiver: Receiver, worker: OutboxWorker, clock: ManualClock
) -> None:
    """A 429 answered in plain text waits exactly its Retry-After, and is not counted."""
    await queue_webhook(services, receiver.url)
    receiver.answers.append((429, "slow down"))
    receiver.headers["Retry-After"] = "7"

    await worker.run_once()

    async with services.sessions() as db:
        row = await repo.get_outbox_message(db, "handoff:h1:webhook")
    assert row is not None
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.available_at == clock() + timedelta(seconds=7)


@pytest.mark.parametrize("retry_after", ["1e999", "99999999999999999", "inf"])
async def test_webhook_retry_after_beyond_reason_waits_the_longest_backoff(
    services: Services,
    receiver: Receiver,
    worker: OutboxWorker,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    retry_after: str,
) -> None:
    """An absurd Retry-After is capped at the longest backoff, not a crash of the worker."""
    await queue_webhook(services, receiver.url)
    receiver.answers.append((429, "slow down"))
    receiver.headers["Retry-After"] = retry_after

    await worker.run_once()

    async with services.sessions() as db:
        row = await repo.get_outbox_message(db, "handoff:h1:webhook")
    assert row is not None
    assert (row.status, row.available_at) == ("pending", clock() + timedelta(seconds=600))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_webhook_fails_after_max_attempts(
    services: Services, receiver: Receiver, worker: OutboxWorker, clock: ManualClock
) -> None:
    """Three 503s in a row (max_attempts=3) fail the row with the last answer."""
    await queue_webhook(services, receiver.url)
    receiver.answers.extend([(503, "maintenance")] * 3)

    for _ in range(3):
        await worker.run_once()
        clock.advance(seconds=10)

    assert await status_of(services) == (
        "failed",
        3,
        f"HTTP 503 from POST {receiver.url}: maintenance (gave up after 3 attempts)",
    )


async def test_webhook_without_a_secret_is_not_sent(
    services: Services, receiver: Receiver, worker: OutboxWorker
) -> None:
    """An unsigned decision is never sent: the row fails and says which workflow lacks one."""
    await queue_webhook(services, receiver.url, workflow="invoice-extraction")

    await worker.run_once()

    assert receiver.received == []
    assert await status_of(services) == (
        "failed",
        1,
        "no callback secret is configured for workflow 'invoice-extraction'; not sent",
    )


async def test_secret_variable_unset_after_start_fails_the_row(
    services: Services, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A secret variable that was set at start but is gone at delivery fails the row, unsent."""
    path = tmp_path / "workflows.yml"
    path.write_text(
        "workflows:\n"
        "  ticket-triage:\n"
        f"    callback_url: {receiver.url}\n"
        "    callback_secret_env: TRIAGE_CALLBACK_SECRET\n"
    )
    config = load_config(path, environ={"TRIAGE_CALLBACK_SECRET": SECRET})  # set at start
    monkeypatch.delenv("TRIAGE_CALLBACK_SECRET", raising=False)  # gone at delivery
    await queue_webhook(services, receiver.url)

    async with aiohttp.ClientSession() as session:
        worker = OutboxWorker(
            sessions=services.sessions,
            slack_client=None,
            renderers=Renderers(),
            clock=services.clock,
            http_session=session,
            webhook_secrets=callback_secrets(config),
            settings=WorkerSettings(max_attempts=3),
            rng=random.Random(3),
        )
        await worker.run_once()

    assert receiver.received == []
    assert await status_of(services) == (
        "failed",
        1,
        "no callback secret is configured for workflow 'ticket-triage'; not sent",
    )


async def test_unreachable_receiver_is_retried(
    services: Services, worker: OutboxWorker, clock: ManualClock
) -> None:
    """A refused connection is retried later, never failed at once."""
    await queue_webhook(services, "http://127.0.0.1:9/hook")

    await worker.run_once()

    status, attempts, error = await status_of(services)
    assert (status, attempts) == ("pending", 1)
    assert error is not None
    assert error.startswith("ClientConnectorError")
    assert clock() + timedelta(seconds=0.5) <= (await _available_at(services))


async def _available_at(services: Services) -> datetime:
    async with services.sessions() as db:
        row = await repo.get_outbox_message(db, "handoff:h1:webhook")
    assert row is not None
    return row.available_at


async def test_a_receivers_answer_is_kept_and_logged_without_its_secrets(
    services: Services,
    receiver: Receiver,
    worker: OutboxWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 500 echoing a bearer token and a password URL is stored and logged redacted."""
    await queue_webhook(services, receiver.url)
    token = "eyQz8mN4tYv7Lp2Rk9Wc3Hs6Jd1Fg5Ab0Xe"
    echo = (
        f"upstream refused: Authorization: Bearer {token} "
        "(retrying against postgres://handrail:hunter2-s3cret@db.internal:5432/ledger)"
    )
    receiver.answers.append((500, echo))

    with caplog.at_level(logging.DEBUG, logger="handrail"):
        await worker.run_once()

    status, _, last_error = await status_of(services)
    assert status == "pending"
    assert last_error is not None
    assert last_error.startswith(f"HTTP 500 from POST {receiver.url}: upstream refused: ")
    assert "[REDACTED:authorization]" in last_error
    assert "[REDACTED:url_password]" in last_error
    for secret in (token, "hunter2-s3cret"):
        assert secret not in last_error
        assert secret not in caplog.text
    assert "[REDACTED:authorization]" in caplog.text
