"""The notice an alert channel gets when a workflow is paused or resumed.

The outbox row names the audit entry (``render="pause_notice", ref=<entry id>``), so the
notice is rendered from the record of the change itself and says exactly what the audit
log says. No I/O beyond reading that entry; no Slack here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import audit
from workflows.errors import NotFound
from workflows.pause.state import ALL_WORKFLOWS
from workflows.pause.switch import PAUSED, RESUMED


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseNoticeView:
    """One pause or resume, as the alert channel is told about it."""

    paused: bool
    """True for a pause, False for a resume."""
    target: str
    """A workflow name, or ``ALL_WORKFLOWS``."""
    actor: str
    """A Slack user ID, ``cli:<os user>`` or ``api:<credential id>``."""
    at: datetime
    reason: str | None
    """Why it was paused (for a resume: why it had been)."""
    note: str | None = None
    released_decisions: int = 0
    released_deliveries: int = 0

    @property
    def label(self) -> str:
        return "All workflows" if self.target == ALL_WORKFLOWS else self.target


async def load_pause_notice(db: AsyncSession, ref: str) -> PauseNoticeView:
    """The notice for the audit entry ``ref``; anything else is not found."""
    entry = await audit.get_audit_entry(db, int(ref)) if ref.isdigit() else None
    if entry is None or entry.action not in (PAUSED, RESUMED):
        raise NotFound(f"no pause or resume with audit ID '{ref}'", details=[{"loc": "ref"}])
    details = entry.details or {}
    paused = entry.action == PAUSED
    return PauseNoticeView(
        paused=paused,
        target=entry.workflow or ALL_WORKFLOWS,
        actor=entry.actor,
        at=entry.at,
        reason=details.get("reason") if paused else details.get("paused_reason"),
        note=details.get("note"),
        released_decisions=int(details.get("released_decisions") or 0),
        released_deliveries=int(details.get("released_deliveries") or 0),
    )
