"""Checking that a webhook really comes from Handrail, on the receiving side.

Handrail signs each delivery the Standard Webhooks way (https://www.standardwebhooks.com):
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,`` and a base64
HMAC-SHA256 of ``id.timestamp.body``). Any Standard Webhooks library verifies them; this
helper is that check done with the ``standardwebhooks`` package, with Handrail's secret
rule: a ``whsec_`` secret is base64 as the standard has it, and any other secret (set
before Handrail used the standard) is used as its UTF-8 bytes.

The ``webhook-id`` is the same on every retry of a delivery: a receiver that remembers the
IDs it handled acts on each decision exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from handrail_client.errors import WebhookVerificationFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard's prefix, not a secret


def signer(secret: str) -> Webhook:
    """The Standard Webhooks signer for a Handrail callback secret (see the module docstring)."""
    if not secret:
        raise ValueError("the webhook secret is empty")
    return Webhook(secret if secret.startswith(SECRET_PREFIX) else secret.encode())


def verify_webhook(body: bytes | str, headers: Mapping[str, str], secret: str) -> Any:
    """The delivery's JSON body, once its signature and timestamp check out.

    ``body`` is the raw request body exactly as received; ``headers`` the request's headers
    (any capitalisation). Raises :class:`WebhookVerificationFailed` for a missing header, a
    wrong signature, or a timestamp more than five minutes away (a replay).
    """
    try:
        return signer(secret).verify(body, dict(headers))
    except WebhookVerificationError as error:
        raise WebhookVerificationFailed(f"not a valid Handrail webhook: {error}") from error
