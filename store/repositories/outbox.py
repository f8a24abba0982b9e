"""Outbox queries for the delivery worker: claim due rows, then settle each one.

Claiming is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``: on PostgreSQL the
inner select takes ``FOR UPDATE SKIP LOCKED`` so several instances claim disjoint rows
without waiting on each other; on SQLite the ``BEGIN IMMEDIATE`` transaction (see
``store.engine``) serialises claimers. Every settling write is conditional on the claim it
answers (status ``sending`` and the same ``attempts``), so a worker whose lease ran out can
never overwrite what the worker that re-claimed the row recorded.

While a row is not done, ``result`` holds ``MAYBE_SENT`` when an earlier attempt may have
reached Slack without the worker learning so (a timeout, a 5xx, a worker that stopped
mid-delivery); the worker then looks for the message before posting again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.models import OutboxMessage
from store.types import JsonDocument

PENDING = "pending"
SENDING = "sending"
DONE = "done"
FAILED = "failed"
SETTLED = (DONE, FAILED)

#: ``result`` of a row that is not done but may already have been delivered.
MAYBE_SENT: dict[str, Any] = {"maybe_sent": True}

#: ``last_error`` of a row taken over from a worker whose lease ran out.
LEASE_EXPIRED = "the worker delivering it stopped before recording the outcome (lease expired)"


def _in_turn(row: type[OutboxMessage]) -> Any:
    """No older row with the same ordering key is still unsettled (pending, sending, held)."""
    older = aliased(OutboxMessage, name="older")
    behind = exists().where(
        older.ordering_key == row.ordering_key,
        older.id < row.id,
        older.status.not_in(SETTLED),
    )
    return or_(row.ordering_key.is_(None), ~behind)


def _deliverable(row: type[OutboxMessage], *, now: datetime) -> Any:
    """Due (or abandoned by a worker whose lease ran out) and in turn."""
    due = or_(
        and_(row.status == PENDING, row.available_at <= now),
        and_(row.status == SENDING, row.claimed_until < now),
    )
    return and_(due, _in_turn(row))


async def claim_outbox(
    db: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Collection[str],
) -> Sequence[OutboxMessage]:
    """Claim up to ``limit`` deliverable rows of ``kinds``, oldest due first.

    A row taken over from an expired claim gets ``MAYBE_SENT`` and a ``last_error`` saying
    so, decided in the same statement that claims it.
    """
    if limit < 1 or not kinds:
        return []
    candidate = aliased(OutboxMessage, name="candidate")
    chosen = (
        select(candidate.id)
        .where(candidate.kind.in_(list(kinds)), _deliverable(candidate, now=now))
        .order_by(candidate.available_at, candidate.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken_over = OutboxMessage.status == SENDING
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen.scalar_subquery()))
        .values(
            status=SENDING,
            claimed_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
            result=case(
                (taken_over, literal(MAYBE_SENT, JsonDocument)), else_=OutboxMessage.result
            ),
            last_error=case((taken_over, LEASE_EXPIRED), else_=OutboxMessage.last_error),
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = (await db.scalars(statement)).all()
    return sorted(rows, key=lambda row: (row.available_at, row.id))


def _claimed(row: OutboxMessage) -> Any:
    """The row is still under the claim that ``row`` was read with."""
    return and_(
        OutboxMessage.id == row.id,
        OutboxMessage.status == SENDING,
        OutboxMessage.attempts == row.attempts,
    )


async def mark_done(
    db: AsyncSession, row: OutboxMessage, *, result: dict[str, Any], now: datetime
) -> bool:
    """Record a delivery; False when the claim was lost to another worker meanwhile."""
    outcome = await db.execute(
        update(OutboxMessage)
        .where(_claimed(row))
        .values(status=DONE, result=result, sent_at=now, claimed_until=None)
    )
    return bool(outcome.rowcount)  # type: ignore[attr-defined]


async def mark_failed(db: AsyncSession, row: OutboxMessage, *, error: str) -> bool:
    """Give up on a delivery, keeping the full error; False when the claim was lost."""
    outcome = await db.execute(
        update(OutboxMessage)
        .where(_claimed(row))
        .values(status=FAILED, last_error=error, claimed_until=None)
    )
    return bool(outcome.rowcount)  # type: ignore[attr-defined]


async def reschedule(
    db: AsyncSession,
    row: OutboxMessage,
    *,
    available_at: datetime,
    error: str | None,
    attempted: bool,
    mark_maybe_sent: bool,
) -> bool:
    """Put a claimed row back to ``pending`` until ``available_at``.

    ``attempted=False`` gives the attempt back (the row was paced, not tried).
    ``mark_maybe_sent`` sets ``MAYBE_SENT``; the mark is never cleared before the row is
    done, so every later attempt looks before it posts, which costs a read and is safe.
    """
    values: dict[str, Any] = {
        "status": PENDING,
        "available_at": available_at,
        "claimed_until": None,
    }
    if error is not None:
        values["last_error"] = error
    if not attempted:
        values["attempts"] = OutboxMessage.attempts - 1
    if mark_maybe_sent:
        values["result"] = MAYBE_SENT
    outcome = await db.execute(update(OutboxMessage).where(_claimed(row)).values(**values))
    return bool(outcome.rowcount)  # type: ignore[attr-defined]


async def get_outbox_message(db: AsyncSession, dedupe_key: str) -> OutboxMessage | None:
    """The row enqueued under ``dedupe_key``, if any."""
    result = await db.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    return result.scalar_one_or_none()


async def next_due_at(db: AsyncSession, *, kinds: Collection[str]) -> datetime | None:
    """When the next pending row of ``kinds`` that is in turn is due: the worker sleeps
    until then instead of polling blindly."""
    if not kinds:
        return None
    row = aliased(OutboxMessage, name="candidate")
    query = select(func.min(row.available_at)).where(
        row.status == PENDING, row.kind.in_(list(kinds)), _in_turn(row)
    )
    return (await db.execute(query)).scalar_one_or_none()
