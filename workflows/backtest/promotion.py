"""A workflow's mode change, written to the audit log with the backtest it was based on.

``handrail brief diff --record`` appends a ``policy.backtest`` entry per workflow: the
report's digest, the digest of the workflow's proposed brief, its mode and the figures a
reader needs (all integers and strings, as the chain requires). When a server starts with
a brief whose mode differs from the one it last started with, it appends
``policy.promoted`` (towards more freedom: shadow → review → auto) or ``policy.demoted``,
naming the most recent backtest of exactly that brief, or saying that none was recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import (
    POLICY_BACKTESTED,
    POLICY_DEMOTED,
    POLICY_PROMOTED,
    canonical_json,
    sha256_hex,
    utc_stamp,
)
from store.models import AuditEntry
from store.repositories.audit import create_audit_entry, list_entries_of_action
from store.repositories.workflows import read_modes, set_mode
from workflows.backtest.report import BacktestReport, WorkflowBacktest
from workflows.config.brief import HandrailConfig, WorkflowConfig

#: Modes from the least freedom to the most: a move right is a promotion.
MODE_ORDER = ("shadow", "review", "auto")

#: Who the log names for a change noticed at start-up.
STARTUP_ACTOR = "handrail"


def brief_digest(policy: WorkflowConfig) -> str:
    """SHA-256 of one workflow's brief, as validated: the same brief has the same digest."""
    return sha256_hex(canonical_json(policy.model_dump(mode="json")))


def _summary(result: WorkflowBacktest) -> dict[str, Any]:
    """The workflow's figures as the chain holds them: integers and strings only."""
    return {
        "questions": result.questions,
        "replayed_on_partial_inputs": result.partial,
        "changes": {f"{t.before}->{t.after}": t.count for t in result.changed},
        "reviews_before": result.reviews_before,
        "reviews_after": result.reviews_after,
    }


async def record_backtest(
    db: AsyncSession,
    *,
    report: BacktestReport,
    proposed: HandrailConfig,
    actor: str,
    now: datetime,
) -> list[AuditEntry]:
    """Append one ``policy.backtest`` entry per workflow the report covers."""
    digest = report.to_json()["digest"]
    entries = []
    for result in report.workflows:
        entries.append(
            await create_audit_entry(
                db,
                actor=actor,
                action=POLICY_BACKTESTED,
                workflow=result.workflow,
                details={
                    "report_digest": digest,
                    "brief_digest": brief_digest(proposed.workflows[result.workflow]),
                    "mode": result.mode_proposed,
                    "since": utc_stamp(report.since),
                    "until": utc_stamp(report.until),
                    **_summary(result),
                },
                now=now,
            )
        )
    return entries


async def find_backtest(db: AsyncSession, *, workflow: str, digest: str) -> AuditEntry | None:
    """The most recent recorded backtest of exactly this brief of ``workflow``."""
    for entry in await list_entries_of_action(db, action=POLICY_BACKTESTED, workflow=workflow):
        if (entry.details or {}).get("brief_digest") == digest:
            return entry
    return None


async def note_mode_changes(
    db: AsyncSession, *, config: HandrailConfig, now: datetime
) -> list[AuditEntry]:
    """Compare each workflow's mode with the one it last started in; audit each change."""
    entries = []
    modes = await read_modes(db, config.workflows)
    for name, policy in sorted(config.workflows.items()):
        was = modes.get(name)
        if was == policy.mode or not await set_mode(db, name, was=was, now_in=policy.mode):
            continue
        if was is None:
            continue  # the first start that notes a mode: nothing to compare with
        digest = brief_digest(policy)
        backtest = await find_backtest(db, workflow=name, digest=digest)
        promoted = MODE_ORDER.index(policy.mode) > MODE_ORDER.index(was)
        entries.append(
            await create_audit_entry(
                db,
                actor=STARTUP_ACTOR,
                action=POLICY_PROMOTED if promoted else POLICY_DEMOTED,
                workflow=name,
                details={
                    "from": was,
                    "to": policy.mode,
                    "brief_digest": digest,
                    "backtest": _reference(backtest),
                },
                now=now,
            )
        )
    return entries


def _reference(entry: AuditEntry | None) -> dict[str, Any] | None:
    """Where the backtest is in the log, or None when no backtest of this brief exists."""
    if entry is None:
        return None
    details = entry.details or {}
    return {
        "sequence": entry.sequence,
        "at": utc_stamp(entry.at),
        "actor": entry.actor,
        "report_digest": details.get("report_digest"),
    }
