"""The last backtest recorded for a workflow (``handrail brief diff --record``), as a view.

A proposed brief is a file on an admin's machine, so Slack cannot start a backtest; what
it can show is the backtest someone recorded: when and by whom, what it found, whether it
tested the brief running now, and whether a promotion was based on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import POLICY_BACKTESTED, POLICY_PROMOTED
from store.repositories.audit import list_entries_of_action
from workflows.backtest.promotion import brief_digest
from workflows.config.brief import WorkflowConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedBacktest:
    workflow: str
    sequence: int
    at: datetime
    actor: str
    details: dict[str, Any]
    tests_running_brief: bool
    """The backtest was of exactly the brief the server runs now."""
    promoted_at: datetime | None
    """When a promotion named this backtest, if one did."""

    @property
    def changes(self) -> dict[str, int]:
        found = self.details.get("changes")
        return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}


async def latest_backtest(
    db: AsyncSession, *, workflow: str, policy: WorkflowConfig
) -> RecordedBacktest | None:
    """The most recent recorded backtest of ``workflow``, or None if none was recorded."""
    entries = await list_entries_of_action(db, action=POLICY_BACKTESTED, workflow=workflow, limit=1)
    if not entries:
        return None
    (entry,) = entries
    promotions = await list_entries_of_action(db, action=POLICY_PROMOTED, workflow=workflow)
    promoted_at = next(
        (
            promotion.at
            for promotion in promotions
            if ((promotion.details or {}).get("backtest") or {}).get("sequence") == entry.sequence
        ),
        None,
    )
    details = entry.details or {}
    return RecordedBacktest(
        workflow=workflow,
        sequence=entry.sequence,
        at=entry.at,
        actor=entry.actor,
        details=details,
        tests_running_brief=details.get("brief_digest") == brief_digest(policy),
        promoted_at=promoted_at,
    )
