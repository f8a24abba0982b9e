"""The deliveries about a run that Handrail gave up on, for the run's story and its traces.

A hard Slack error (``channel_not_found``, ``not_in_channel``…) or a webhook that kept
failing leaves an outbox row ``failed`` with the full error; the worker logs it, and the
run's story shows it, so whoever reads the trace learns that the reviewers were never told.
A run's rows are found by the keys they were queued under (``handoff_keys.post_key`` orders
the handoff's post, its updates, its reply and its reminder; ``webhook_key`` names the
decision's webhook), so the read is one query on two indexed columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OutboxMessage
from store.repositories import outbox as rows
from workflows.delivery import outbox
from workflows.review.handoff_keys import post_key, webhook_key


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedDelivery:
    """A message or webhook about one of the run's handoffs that will not be delivered."""

    handoff_id: str
    kind: str
    """``slack.post``, ``slack.update`` or ``webhook``."""
    message: str | None
    """What the Slack row showed (its renderer: ``handoff``, ``decision_reply``…)."""
    target: str
    """The channel, the message an update was for, or the webhook's address (no query)."""
    error: str
    """The error as recorded, in full (Slack's error code and the call it answered)."""
    attempts: int
    queued_at: datetime
    failed_at: datetime


async def read_failed_deliveries(
    db: AsyncSession, handoff_ids: Sequence[str]
) -> tuple[FailedDelivery, ...]:
    """The failed deliveries about ``handoff_ids``, in the order they were queued."""
    if not handoff_ids:
        return ()
    owners = {post_key(handoff_id): handoff_id for handoff_id in handoff_ids}
    webhooks = {webhook_key(handoff_id): handoff_id for handoff_id in handoff_ids}
    found = await rows.list_failed_by_keys(
        db, ordering_keys=list(owners), dedupe_keys=list(webhooks)
    )
    return tuple(
        _failed_delivery(row, owners.get(row.ordering_key or "") or webhooks[row.dedupe_key])
        for row in found
    )


def _failed_delivery(row: OutboxMessage, handoff_id: str) -> FailedDelivery:
    payload = row.payload
    return FailedDelivery(
        handoff_id=handoff_id,
        kind=row.kind,
        message=str(payload["render"]) if "render" in payload else None,
        target=_target(row.kind, payload),
        error=row.last_error or "failed without an error recorded",
        attempts=row.attempts,
        queued_at=row.created_at,
        failed_at=row.available_at,
    )


def _target(kind: str, payload: dict[str, Any]) -> str:
    if kind == outbox.SLACK_UPDATE:
        return f"the message queued as {payload.get('message_key')}"
    if kind == outbox.WEBHOOK:
        url = urlsplit(str(payload.get("url", "")))
        port = f":{url.port}" if url.port else ""
        return f"{url.scheme}://{url.hostname}{port}{url.path}"  # no credentials or query
    return str(payload.get("channel", "?"))


def failed_delivery_json(delivery: FailedDelivery) -> dict[str, Any]:
    return {
        "handoff_id": delivery.handoff_id,
        "kind": delivery.kind,
        "message": delivery.message,
        "target": delivery.target,
        "error": delivery.error,
        "attempts": delivery.attempts,
        "queued_at": delivery.queued_at.isoformat(),
        "failed_at": delivery.failed_at.isoformat(),
    }
