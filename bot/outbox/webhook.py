"""Signed webhook deliveries: how decisions reach an automation's ``callback_url``.

Deliveries are signed the Standard Webhooks way (https://www.standardwebhooks.com), so a
receiver verifies them with an off-the-shelf library in any language: ``webhook-id`` (the
same on every retry of one delivery), ``webhook-timestamp`` (Unix seconds; rejecting old
ones stops replays) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
The key is the callback secret: a ``whsec_`` secret is base64, as the standard has it; any
other secret is used as its UTF-8 bytes. A delivery whose answer was lost is sent again, so
the receiver, not Handrail, makes it happen once, by the ``webhook-id``.

Deprecated, kept for one release: ``X-Handrail-Signature: v1=<hex HMAC-SHA256(secret,
"{timestamp}.{body}")>``, ``X-Handrail-Timestamp`` and ``X-Handrail-Idempotency-Key``.

What a refusing receiver answers is kept in the row's ``last_error``, logged, and shown in
``/trace`` and the run story; a receiver that echoes the request or its own configuration
could put credentials there, so the answer passes through the secrets redactor first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook
from yarl import URL

from bot.outbox.outcomes import Delivered, Failed, Outcome, Retry, retry_after_seconds
from workflows.redaction import Redactor, fit

ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
#: Deprecated: Handrail's own headers, sent beside the standard ones for one more release.
SIGNATURE_HEADER = "X-Handrail-Signature"
TIMESTAMP_HEADER = "X-Handrail-Timestamp"
IDEMPOTENCY_HEADER = "X-Handrail-Idempotency-Key"
STANDARD_SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard's prefix, not a secret
#: How much of a refusing receiver's answer is kept in ``last_error``.
RESPONSE_TEXT_MAX = 2000
#: How much of it is redacted before being cut to size: more than is kept, since a
#: placeholder can be shorter than the secret it replaces, and a secret cut in half might
#: no longer be recognised.
RESPONSE_TEXT_READ = 2 * RESPONSE_TEXT_MAX

WebhookSecrets = Callable[[str], "str | None"]
"""The signing secret of a workflow's callback, or None when it has none."""


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for ``body`` sent as ``message_id`` at ``timestamp``."""
    key = secret if secret.startswith(STANDARD_SECRET_PREFIX) else secret.encode()
    return Webhook(key).sign(message_id, datetime.fromtimestamp(timestamp, UTC), body)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The deprecated ``X-Handrail-Signature`` value for ``body`` sent at ``timestamp``."""
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
        try:
            standard_signature = sign_standard(secret, idempotency_key, timestamp, data)
        except (ValueError, EmptyWebhookSecretError) as error:  # whsec_ but not base64
            return Failed(
                f"the callback secret of workflow '{workflow}' starts with whsec_ but is not "
                f"a base64 key ({type(error).__name__}); not sent"
            )
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: idempotency_key,
            STANDARD_TIMESTAMP_HEADER: str(timestamp),
            STANDARD_SIGNATURE_HEADER: standard_signature,
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
