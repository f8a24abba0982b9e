"""Recording what an attempt came to: done, failed, back later, or retried with backoff.

Each outcome is one short transaction, conditional on the claim it answers, so a worker
whose lease ran out records nothing over the worker that took the row over.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox.outcomes import Delivered, Failed, Later, Outcome, Retry
from bot.outbox.settings import WorkerSettings
from store.engine import Sessions
from store.models import OutboxMessage
from store.repositories import outbox as repo
from workflows.clock import Clock
from workflows.delivery import outbox

log = logging.getLogger("handrail.outbox")


def to_datetime(seconds: float, like: datetime) -> datetime:
    """Unix seconds as an aware datetime in the zone of ``like``."""
    return datetime.fromtimestamp(seconds, like.tzinfo)


class Recorder:
    """Writes outcomes to the outbox and keeps a tally of them."""

    def __init__(
        self, *, sessions: Sessions, clock: Clock, settings: WorkerSettings, rng: random.Random
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.rng = rng
        self.stats: Counter[str] = Counter()
        """Outcomes so far: ``done``, ``failed``, ``retried``, ``paced``, ``lost_claim``."""

    async def record(self, row: OutboxMessage, outcome: Outcome) -> None:
        """Settle ``row`` as ``outcome`` says, under the claim it was read with."""
        now = self.clock()
        async with self.sessions() as db, db.begin():
            if isinstance(outcome, Delivered):
                kept = await repo.mark_done(db, row, result=outcome.result, now=now)
                self._count("done", kept)
            elif isinstance(outcome, Failed):
                kept = await repo.mark_failed(db, row, error=outcome.error, now=now)
                self._count("failed", kept)
                if kept:
                    self._log_failure(row, outcome.error)
            elif isinstance(outcome, Later):
                kept = await repo.reschedule(
                    db,
                    row,
                    available_at=to_datetime(outcome.at, now),
                    error=None,
                    attempted=False,
                    mark_maybe_sent=False,
                )
                self._count("paced", kept)
            else:
                kept = await self._retry(db, row, outcome, now)
        if not kept:
            log.warning(
                "outbox #%s (%s): the claim ran out before the outcome (%s) was recorded; "
                "another worker has the row",
                row.id,
                row.workflow,
                type(outcome).__name__,
            )

    async def _retry(
        self, db: AsyncSession, row: OutboxMessage, outcome: Retry, now: datetime
    ) -> bool:
        if outcome.counts and row.attempts >= self.settings.max_attempts:
            error = f"{outcome.error} (gave up after {row.attempts} attempts)"
            kept = await repo.mark_failed(db, row, error=error, now=now)
            self._count("failed", kept)
            if kept:
                self._log_failure(row, error)
            return kept
        after = outcome.after
        if after is None:
            after = self.settings.backoff.delay(row.attempts, self.rng)
        kept = await repo.reschedule(
            db,
            row,
            available_at=to_datetime(now.timestamp() + after, now),
            error=outcome.error,
            attempted=outcome.counts,
            mark_maybe_sent=outcome.maybe_sent and row.kind in outbox.LOOKED_UP,
        )
        self._count("retried", kept)
        log.info("outbox #%s (%s): %s; again in %.1f s", row.id, row.workflow, outcome.error, after)
        return kept

    def _count(self, what: str, kept: bool) -> None:
        self.stats[what if kept else "lost_claim"] += 1

    def _log_failure(self, row: OutboxMessage, error: str) -> None:
        log.warning("outbox #%s %s (workflow %s) failed: %s", row.id, row.kind, row.workflow, error)
