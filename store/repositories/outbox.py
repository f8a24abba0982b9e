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

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from store.models import OutboxMessage
from store.types import JsonDocument, UTCDateTime

PENDING = "pending"
SENDING = "sending"
DONE = "done"
FAILED = "failed"
SETTLED = (DONE, FAILED)
SLACK_POST = "slack.post"

#: ``result`` of a row that is not done but may already have been delivered.
MAYBE_SENT: dict[str, Any] = {"maybe_sent": True}

#: ``last_error`` of a row taken over from a worker whose lease ran out.
LEASE_EXPIRED = "the worker delivering it stopped before recording the outcome (lease expired)"


# The claim and next-due queries are built once, with every value a bound parameter:
# building them costs far more Python time than running them, and the worker runs them
# several times a second.
_NOW: BindParameter[datetime] = bindparam("now", type_=UTCDateTime)
_KINDS: BindParameter[str] = bindparam("kinds", type_=String, expanding=True)
_SKIP: BindParameter[str] = bindparam("skip_channels", type_=String, expanding=True)


def _in_turn(row: type[OutboxMessage]) -> Any:
    """No older row with the same ordering key is still unsettled (pending, sending, held)."""
    older = aliased(OutboxMessage, name="older")
    behind = exists().where(
        older.ordering_key == row.ordering_key,
        older.id < row.id,
        older.status.not_in(SETTLED),
    )
    return or_(row.ordering_key.is_(None), ~behind)


def _channel(row: type[OutboxMessage]) -> Any:
    return row.payload["channel"].as_string()


def _due(row: type[OutboxMessage]) -> Any:
    """Due, or abandoned by a worker whose lease ran out."""
    return or_(
        and_(row.status == PENDING, row.available_at <= _NOW),
        and_(row.status == SENDING, row.claimed_until < _NOW),
    )


def _claim_statement() -> Any:
    candidate = aliased(OutboxMessage, name="candidate")
    # One post per channel per claim: a second one could only be put straight back.
    first_of_channel = case(
        (
            candidate.kind == SLACK_POST,
            func.row_number().over(
                partition_by=_channel(candidate),
                order_by=(candidate.available_at, candidate.id),
            ),
        ),
        else_=1,
    )
    ranked = (
        select(candidate.id, candidate.available_at, first_of_channel.label("rank"))
        .where(
            candidate.kind.in_(_KINDS),
            _due(candidate),
            _in_turn(candidate),
            or_(candidate.kind != SLACK_POST, _channel(candidate).not_in(_SKIP)),
        )
        .subquery("ranked")
    )
    chosen = (
        select(ranked.c.id)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.available_at, ranked.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    # Lock what was chosen, re-checking it is still due: under PostgreSQL's READ COMMITTED
    # a row another worker claimed meanwhile is re-read here and drops out.
    target = aliased(OutboxMessage, name="target")
    locked = (
        select(target.id)
        .where(target.id.in_(chosen.scalar_subquery()), _due(target))
        .with_for_update(skip_locked=True)
    )
    taken_over = OutboxMessage.status == SENDING
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(locked.scalar_subquery()))
        .values(
            status=SENDING,
            claimed_until=bindparam("claimed_until", type_=UTCDateTime),
            attempts=OutboxMessage.attempts + 1,
            result=case(
                (taken_over, literal(MAYBE_SENT, JsonDocument)), else_=OutboxMessage.result
            ),
            last_error=case((taken_over, LEASE_EXPIRED), else_=OutboxMessage.last_error),
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )


def _next_due_statement() -> Any:
    row = aliased(OutboxMessage, name="candidate")
    return select(func.min(row.available_at)).where(
        row.status == PENDING,
        row.kind.in_(_KINDS),
        _in_turn(row),
        or_(row.kind != SLACK_POST, _channel(row).not_in(_SKIP)),
    )


_CLAIM = _claim_statement()
_NEXT_DUE = _next_due_statement()


async def claim_outbox(
    db: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Collection[str],
    skip_channels: Collection[str] = (),
) -> Sequence[OutboxMessage]:
    """Claim up to ``limit`` deliverable rows of ``kinds``, oldest due first.

    Posts to ``skip_channels`` stay where they are: claiming them only to put them back
    would cost two writes each while their channel is busy. A row taken over from an
    expired claim gets ``MAYBE_SENT`` and a ``last_error`` saying so, decided in the same
    statement that claims it.
    """
    if limit < 1 or not kinds:
        return []
    params = {
        "now": now,
        "claimed_until": now + lease,
        "limit": limit,
        "kinds": list(kinds),
        "skip_channels": sorted(skip_channels),
    }
    rows = (await db.scalars(_CLAIM, params)).all()
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


async def mark_failed(db: AsyncSession, row: OutboxMessage, *, error: str, now: datetime) -> bool:
    """Give up on a delivery, keeping the full error; False when the claim was lost.

    A failed row is never due again, so its ``available_at`` keeps when it failed.
    """
    outcome = await db.execute(
        update(OutboxMessage)
        .where(_claimed(row))
        .values(status=FAILED, last_error=error, claimed_until=None, available_at=now)
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


async def list_failed_by_keys(
    db: AsyncSession, *, ordering_keys: Collection[str], dedupe_keys: Collection[str]
) -> Sequence[OutboxMessage]:
    """Failed rows queued with one of ``ordering_keys`` or under one of ``dedupe_keys``.

    One read that is two index lookups (``ix_outbox_ordering_key_id`` and the unique
    ``dedupe_key``). The status is checked here, not in SQL: a condition on it lets the
    planner pick the status index and walk every failed row, while the few rows the keys
    name are cheap to read whatever their state.
    """
    if not ordering_keys and not dedupe_keys:
        return []
    result = await db.execute(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.ordering_key.in_(list(ordering_keys)),
                OutboxMessage.dedupe_key.in_(list(dedupe_keys)),
            )
        )
        .order_by(OutboxMessage.id)
    )
    return [row for row in result.scalars() if row.status == FAILED]


async def next_due_at(
    db: AsyncSession, *, kinds: Collection[str], skip_channels: Collection[str] = ()
) -> datetime | None:
    """When the next pending row of ``kinds`` that is in turn (and not a post to one of
    ``skip_channels``) is due: the worker sleeps until then instead of polling blindly."""
    if not kinds:
        return None
    params = {"kinds": list(kinds), "skip_channels": sorted(skip_channels)}
    due: datetime | None = (await db.execute(_NEXT_DUE, params)).scalar_one_or_none()
    return due
