"""Signed webhook deliveries: how decisions reach an automation's ``callback_url``.

The receiver verifies ``X-Handrail-Signature: v1=<hex HMAC-SHA256(secret,
"{timestamp}.{body}")>`` against ``X-Handrail-Timestamp`` (rejecting old timestamps stops
replays) and drops a repeated ``X-Handrail-Idempotency-Key``: a delivery whose answer was
lost is sent again, so the receiver, not Handrail, makes it happen once.

What a refusing receiver answers is kept in the row's ``last_error``, logged, and shown in
``/trace`` and the run story; a receiver that echoes the request or its own configuration
could put credentials there, so the answer passes through the secrets redactor first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
from yarl import URL

from bot.outbox.outcomes import Delivered, Failed, Outcome, Retry, retry_after_seconds
from workflows.redaction import Redactor, fit

SIGNATURE_HEADER = "X-Handrail-Signature"
TIMESTAMP_HEADER = "X-Handrail-Timestamp"
IDEMPOTENCY_HEADER = "X-Handrail-Idempotency-Key"
#: How much of a refusing receiver's answer is kept in ``last_error``.
RESPONSE_TEXT_MAX = 2000
#: How much of it is redacted before being cut to size: more than is kept, since a
#: placeholder can be shorter than the secret it replaces, and a secret cut in half might
#: no longer be recognised.
RESPONSE_TEXT_READ = 2 * RESPONSE_TEXT_MAX

WebhookSecrets = Callable[[str], "str | None"]
"""The signing secret of a workflow's callback, or None when it has none."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def shown_url(url: str) -> str:
    """The URL as errors show it: without credentials or query string."""
    try:
        return str(URL(url).with_user(None).with_query(None).with_fragment(None))
    except (ValueError, TypeError):
        return "<invalid url>"


class WebhookSender:
    """POSTs one signed JSON body; 2xx is delivered, 4xx (but 408/429) is final."""

    def __init__(
        self, session: aiohttp.ClientSession, secrets: WebhookSecrets, *, timeout: float
    ) -> None:
        self.session = session
        self.secrets = secrets
        self.timeout = timeout
        self.redactor = Redactor()  # the secrets only, which are always redacted

    def _without_secrets(self, text: str) -> str:
        """A receiver's answer, or an error about it, fit to keep: secrets redacted."""
        redacted = self.redactor.redact(text[:RESPONSE_TEXT_READ]).value
        assert isinstance(redacted, str)  # redaction keeps the shape of what it is given
        return fit(redacted, RESPONSE_TEXT_MAX)

    async def send(
        self, *, url: str, workflow: str, body: Any, idempotency_key: str, now: float
    ) -> Outcome:
        what = f"from POST {shown_url(url)}"
        secret = self.secrets(workflow)
        if not secret:
            return Failed(f"no callback secret is configured for workflow '{workflow}'; not sent")
        data = orjson.dumps(body)
        timestamp = int(now)
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, data),
            IDEMPOTENCY_HEADER: idempotency_key,
        }
        try:
            async with asyncio.timeout(self.timeout):
                async with self.session.post(
                    url, data=data, headers=headers, allow_redirects=False
                ) as response:
                    status = response.status
                    text = self._without_secrets(await response.text(errors="replace"))
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except TimeoutError:
            return Retry(f"timeout after {self.timeout:g} s {what}", maybe_sent=True)
        except aiohttp.InvalidURL:
            return Failed(f"invalid callback URL {what}")
        except aiohttp.ClientError as error:
            reason = self._without_secrets(f"{type(error).__name__}: {error}")
            return Retry(f"{reason} {what}", maybe_sent=True)
        if 200 <= status < 300:
            return Delivered({"status": status})
        refused = f"HTTP {status} {what}" + (f": {text}" if text else "")
        if status == 429:
            return Retry(refused, after=retry_after, counts=False)
        if 400 <= status < 500 and status != 408:
            return Failed(refused)
        return Retry(refused, after=retry_after)
