"""Webhooks in the Standard Webhooks format, verified with off-the-shelf code on receipt."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from handrail_client import WebhookVerificationFailed, verify_webhook
from standardwebhooks.webhooks import Webhook

from bot.services import Services
from tests.callback_receiver import SECRET, Receiver, receiving_callbacks, webhook_worker
from tests.test_outbox_webhook import queue_webhook, status_of
from workflows.clock import ManualClock

#: A secret as the standard writes them: ``whsec_`` and a base64 key.
STANDARD_SECRET = "whsec_" + base64.b64encode(b"a 32-byte key for standard hooks").decode()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving_callbacks() as receiver:
        yield receiver


@pytest.fixture
def now(clock: ManualClock) -> ManualClock:
    """The clock set to the real time: verifiers refuse timestamps five minutes off."""
    clock.current = datetime.now(UTC)
    return clock


async def deliver_one(services: Services, receiver: Receiver, *, secret: str) -> None:
    async with webhook_worker(services.sessions, services.clock, secret=secret) as worker:
        await queue_webhook(services, receiver.url)
        assert await worker.run_once() == 1


async def test_standard_library_verifies_a_whsec_signed_delivery(
    services: Services, receiver: Receiver, now: ManualClock
) -> None:
    """The standardwebhooks package, given the whsec_ secret, accepts the delivery as sent."""
    await deliver_one(services, receiver, secret=STANDARD_SECRET)
    ((headers, body),) = receiver.received
    assert Webhook(STANDARD_SECRET).verify(body, headers)["handoff_id"] == "h1"
    assert headers["webhook-id"] == "handoff:h1:webhook"
    assert headers["webhook-timestamp"] == str(int(now().timestamp()))
    assert headers["webhook-signature"].startswith("v1,")


async def test_client_helper_verifies_a_delivery_signed_with_an_older_secret(
    services: Services, receiver: Receiver, now: ManualClock
) -> None:
    """A secret without the whsec_ prefix still signs, and the client's helper verifies it."""
    await deliver_one(services, receiver, secret=SECRET)
    ((headers, body),) = receiver.received
    assert verify_webhook(body, headers, SECRET)["note"] == "naïve ✓"


async def test_client_helper_refuses_a_tampered_body(
    services: Services, receiver: Receiver, now: ManualClock
) -> None:
    """A body changed on the way fails verification with WebhookVerificationFailed."""
    await deliver_one(services, receiver, secret=STANDARD_SECRET)
    ((headers, body),) = receiver.received
    with pytest.raises(WebhookVerificationFailed, match="No matching signature"):
        verify_webhook(body.replace(b"approved", b"rejected"), headers, STANDARD_SECRET)


async def test_client_helper_refuses_a_replayed_delivery(
    services: Services, receiver: Receiver, clock: ManualClock
) -> None:
    """A delivery signed long ago (a replay) fails verification: its timestamp is too old."""
    await deliver_one(services, receiver, secret=STANDARD_SECRET)  # the clock is in January
    ((headers, body),) = receiver.received
    with pytest.raises(WebhookVerificationFailed, match="too old"):
        verify_webhook(body, headers, STANDARD_SECRET)


async def test_a_retry_keeps_the_webhook_id(
    services: Services, receiver: Receiver, now: ManualClock
) -> None:
    """A delivery sent again after a 500 carries the same webhook-id, for de-duplication."""
    receiver.answers = [(500, "busy")]
    async with webhook_worker(services.sessions, services.clock) as worker:
        await queue_webhook(services, receiver.url)
        await worker.run_once()
        now.advance(minutes=1)
        await worker.run_once()
    assert [headers["webhook-id"] for headers, _ in receiver.received] == [
        "handoff:h1:webhook",
        "handoff:h1:webhook",
    ]
    assert (await status_of(services))[0] == "done"


async def test_deprecated_headers_are_still_sent(
    services: Services, receiver: Receiver, now: ManualClock
) -> None:
    """For one more release the X-Handrail-* headers travel beside the standard ones."""
    await deliver_one(services, receiver, secret=SECRET)
    assert len(receiver.bodies()) == 1  # verified the old way, over the X-Handrail headers


async def test_a_whsec_secret_that_is_not_base64_fails_the_row(
    services: Services, receiver: Receiver, now: ManualClock
) -> None:
    """A whsec_ secret that is not a base64 key is never used: the row fails, saying why."""
    async with webhook_worker(services.sessions, services.clock, secret="whsec_!!x") as worker:
        await queue_webhook(services, receiver.url)
        await worker.run_once()
    status, _, error = await status_of(services)
    assert status == "failed"
    assert error is not None
    assert "starts with whsec_ but is not a base64 key" in error
    assert receiver.received == []
