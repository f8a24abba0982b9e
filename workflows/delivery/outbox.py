"""The transactional outbox: every write to Slack or to an automation starts as a row here.

A row is added in the same transaction as the state change that causes it, so a crash,
a Slack outage or a rate limit delays delivery but never loses it; ``dedupe_key`` makes
adding it twice a no-op. The domain never formats Slack messages: a Slack row names a
*renderer* and the record it shows (``{"render": "handoff", "ref": handoff_id}``), and the
delivery worker in ``bot/`` renders the record's state at send time.

Row kinds and payloads:

``slack.post``
    ``{"channel", "render", "ref", "thread_of"?, "metadata"?}`` — a new message;
    ``thread_of`` is the dedupe key of an earlier ``slack.post`` whose message this one
    replies to. The worker stores ``{"channel", "ts"}`` in ``result`` once Slack accepts it.
``slack.update``
    ``{"message_key", "render", "ref"}`` — re-render the message posted by the row whose
    dedupe key is ``message_key``, in place.
``slack.upload``
    ``{"channel", "render", "ref", "thread_of"?}`` — files (charts) rendered at send time by
    the upload renderer ``render`` and shared in one message through Slack's external
    upload; ``thread_of`` as for a post. The worker stores ``{"channel", "files"}``.
``webhook``
    ``{"url", "workflow", "handoff_id", "idempotency_key"}`` — a signed POST to the
    automation of how the handoff ended, its body built when it is sent
    (``workflows.delivery.callbacks``); or ``{"url", "workflow", "body", "idempotency_key"}`` to
    send ``body`` as it is.

Rows with the same ``ordering_key`` are delivered strictly in ``id`` order. A row added
with ``held=True`` (its workflow is paused) waits until it is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OutboxMessage
from store.repositories.runs import insert_ignoring_conflicts

SLACK_POST = "slack.post"
SLACK_UPDATE = "slack.update"
SLACK_UPLOAD = "slack.upload"
WEBHOOK = "webhook"
#: Kinds whose delivery, after a lost answer, looks in Slack before sending again.
LOOKED_UP = frozenset({SLACK_POST, SLACK_UPLOAD})

PENDING = "pending"
SENDING = "sending"
DONE = "done"
FAILED = "failed"
HELD = "held"

#: The Slack message-metadata event type that marks Handrail's own posts.
METADATA_EVENT_TYPE = "handrail_outbox"


def delivery_row(
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    now: datetime,
    ordering_key: str | None = None,
    workflow: str | None = None,
    held: bool = False,
) -> dict[str, Any]:
    """The outbox row of one delivery, for ``enqueue_rows``."""
    if kind == SLACK_POST:
        payload = {
            **payload,
            "metadata": {
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"outbox_key": dedupe_key},
            },
        }
    return {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "ordering_key": ordering_key,
        "workflow": workflow,
        "payload": payload,
        "status": HELD if held else PENDING,
        "attempts": 0,
        "available_at": now,
        "created_at": now,
    }


async def enqueue_rows(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add deliveries (``delivery_row``) in the caller's transaction, in their order, with
    one statement; a repeat key is ignored."""
    if rows:
        await db.execute(
            insert_ignoring_conflicts(db, OutboxMessage), rows[0] if len(rows) == 1 else list(rows)
        )


async def enqueue(
    db: AsyncSession,
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    now: datetime,
    ordering_key: str | None = None,
    workflow: str | None = None,
    held: bool = False,
) -> None:
    """Add a delivery to the outbox in the caller's transaction; a repeat key is ignored."""
    await enqueue_rows(
        db,
        [
            delivery_row(
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload,
                now=now,
                ordering_key=ordering_key,
                workflow=workflow,
                held=held,
            )
        ],
    )


def post_row(
    *,
    key: str,
    channel: str,
    render: str,
    ref: str,
    now: datetime,
    workflow: str | None = None,
    thread_of: str | None = None,
    ordering_key: str | None = None,
) -> dict[str, Any]:
    """The row of a new Slack message showing ``ref`` through the renderer ``render``."""
    return delivery_row(
        kind=SLACK_POST,
        dedupe_key=key,
        payload=_shown_in(channel, render=render, ref=ref, thread_of=thread_of),
        now=now,
        ordering_key=ordering_key or key,
        workflow=workflow,
    )


async def post_message(
    db: AsyncSession,
    *,
    key: str,
    channel: str,
    render: str,
    ref: str,
    now: datetime,
    workflow: str | None = None,
    thread_of: str | None = None,
    ordering_key: str | None = None,
) -> None:
    """Queue a new Slack message showing ``ref`` through the renderer ``render``."""
    row = post_row(
        key=key,
        channel=channel,
        render=render,
        ref=ref,
        now=now,
        workflow=workflow,
        thread_of=thread_of,
        ordering_key=ordering_key,
    )
    await enqueue_rows(db, [row])


def update_row(
    *, key: str, message_key: str, render: str, ref: str, now: datetime, workflow: str | None
) -> dict[str, Any]:
    """The row of an in-place update of the message posted under ``message_key``.

    It shares the post's ordering key, so it can never overtake the post it edits.
    """
    return delivery_row(
        kind=SLACK_UPDATE,
        dedupe_key=key,
        payload={"message_key": message_key, "render": render, "ref": ref},
        now=now,
        ordering_key=message_key,
        workflow=workflow,
    )


async def update_message(
    db: AsyncSession,
    *,
    key: str,
    message_key: str,
    render: str,
    ref: str,
    now: datetime,
    workflow: str | None = None,
) -> None:
    """Queue an in-place update of the message posted under ``message_key``."""
    row = update_row(
        key=key, message_key=message_key, render=render, ref=ref, now=now, workflow=workflow
    )
    await enqueue_rows(db, [row])


async def release_held(db: AsyncSession, *, workflow: str, now: datetime) -> int:
    """Release every held delivery of ``workflow`` (on resume), keeping their order."""
    result = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.workflow == workflow, OutboxMessage.status == HELD)
        .values(status=PENDING, available_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def upload_files(
    db: AsyncSession,
    *,
    key: str,
    channel: str,
    render: str,
    ref: str,
    now: datetime,
    workflow: str | None = None,
    thread_of: str | None = None,
) -> None:
    """Queue files (drawn at send time by ``render`` from ``ref``) to share in ``channel``;
    in the thread of the post queued as ``thread_of``, after it, when given."""
    await enqueue(
        db,
        kind=SLACK_UPLOAD,
        dedupe_key=key,
        payload=_shown_in(channel, render=render, ref=ref, thread_of=thread_of),
        now=now,
        ordering_key=thread_of or key,
        workflow=workflow,
    )


def _shown_in(channel: str, *, render: str, ref: str, thread_of: str | None) -> dict[str, Any]:
    """What a post or a file share carries: where, what to draw it from, and the message
    (by its outbox key) it replies to, if any."""
    payload: dict[str, Any] = {"channel": channel, "render": render, "ref": ref}
    if thread_of is not None:
        payload["thread_of"] = thread_of
    return payload
