"""Outbox delivery: the worker that turns outbox rows into Slack messages and webhooks.

``OutboxWorker`` is the entry point; the modules beside it are its parts: ``pacing`` (Slack's
rate limits on our side), ``slack`` and ``webhook`` (the calls and how their failures are
read), ``deliver`` (one attempt at one row), ``outcomes`` (what an attempt came to),
``record`` (writing that down) and ``settings``.
"""

from __future__ import annotations

from bot.outbox.outcomes import Backoff
from bot.outbox.pacing import PacingSettings
from bot.outbox.settings import WorkerSettings
from bot.outbox.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSecrets,
    sign,
)
from bot.outbox.worker import OutboxWorker

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Backoff",
    "OutboxWorker",
    "PacingSettings",
    "WebhookSecrets",
    "WorkerSettings",
    "sign",
]
