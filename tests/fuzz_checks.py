"""What every fuzzed request must leave behind: no 5xx, no ERROR line, nothing half-written."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.services import Services
from store.models import Base, Event, Run
from workflows.review.claims import record_claimed_decisions

#: Rows a request may write; a refused one must leave every count as it was.
TABLES = tuple(table for table in Base.metadata.sorted_tables if table.name != "leases")
_COUNTS = select(
    *(select(func.count()).select_from(table).scalar_subquery() for table in TABLES),
    select(func.count())
    .select_from(Run)
    .where(
        Run.event_count
        != select(func.count())
        .select_from(Event)
        .where(Event.run_id == Run.id)
        .correlate(Run)
        .scalar_subquery()
    )
    .scalar_subquery(),
)


async def row_counts(services: Services) -> tuple[dict[str, int], int]:
    """Rows per table, and the number of runs whose steps were written in part."""
    async with services.readers() as db:
        *counts, torn = (await db.execute(_COUNTS)).one()
    return dict(zip((t.name for t in TABLES), map(int, counts), strict=True)), int(torn)


@dataclass
class Watch:
    """One fuzzed request's window: the log lines and row counts from before it was sent."""

    services: Services
    caplog: pytest.LogCaptureFixture
    logged: int = 0
    counts: dict[str, int] | None = None

    async def before(self) -> None:
        """Settle what earlier requests left to the background (decisions claimed at ack are
        recorded just after it), so the window holds this request's writes alone."""
        services = self.services
        async with services.decision_writes, services.sessions() as db, db.begin():
            await record_claimed_decisions(db, policy_of=services.workflow, limit=100_000)
        self.logged = len(self.caplog.records)
        self.counts, _ = await row_counts(services)

    async def after(self, status: int, what: str) -> None:
        """Fail unless the answer was not a 5xx, nothing was logged as an error, a refusal
        wrote no row, and no run's steps were written in part."""
        assert status < 500, f"{what} answered {status}"
        errors = [
            record.getMessage()
            for record in self.caplog.records[self.logged :]
            if record.levelno >= logging.ERROR
        ]
        assert errors == [], f"{what} logged {errors}"
        counts, torn = await row_counts(self.services)
        if status >= 400:
            changed = {
                t: (self.counts or {}).get(t, 0) - n
                for t, n in counts.items()
                if (self.counts or {}).get(t) != n
            }
            assert counts == self.counts, f"{what} ({status}) wrote rows: {changed}"
        assert torn == 0, f"{what} left a run's steps half-written"
