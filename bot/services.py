"""What the web handlers, Slack handlers and jobs share: built once by ``build_app``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.decisions.claim_batcher import ClaimBatcher, ClaimCheck
from bot.metrics.registry import Metrics
from bot.settings import Settings
from bot.wakeups import HANDOFF, OUTBOX, Wakeups
from bot.wakeups.waiters import Signals
from store.engine import Sessions, create_read_sessions
from workflows.clock import Clock
from workflows.config.brief import HandrailConfig, WorkflowConfig
from workflows.errors import NotFound
from workflows.redaction import RedactionPolicy, Redactor
from workflows.review.decisions import DecisionInput


def build_redactors(config: HandrailConfig) -> dict[str, Redactor]:
    """One compiled redactor per workflow, from its ``redact:`` list."""
    return {
        name: Redactor(
            RedactionPolicy(personal=workflow.personal_data_kinds, custom=workflow.custom_patterns)
        )
        for name, workflow in config.workflows.items()
    }


@dataclass
class Services:
    settings: Settings
    config: HandrailConfig
    engine: AsyncEngine
    sessions: Sessions
    clock: Clock
    metrics: Metrics = field(default_factory=Metrics)
    redactors: dict[str, Redactor] = field(default_factory=dict)
    readers: Sessions = field(init=False)
    claims: ClaimBatcher = field(init=False)
    decision_writes: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Taken by each claim batch and each batch of recorded decisions, in turn: on SQLite
    both need the one write lock, and waiting here, first come first served, is prompt
    where waiting in SQLite's busy handler sleeps up to 100 ms at a time."""
    signals: Signals = field(default_factory=Signals)
    outbox_wakeup: Callable[[], None] | None = None
    """This process's outbox worker's ``wake`` (``bot.outbox.runtime``); None without one."""
    decision_wakeup: Callable[[], None] = field(default=lambda: None)
    wakeups: Wakeups = field(default_factory=Wakeups)
    """Carries ``signals`` and ``wake_outbox`` to the other processes on this database."""

    def __post_init__(self) -> None:
        if not self.redactors:
            self.redactors = build_redactors(self.config)
        self.readers = create_read_sessions(self.engine)
        self.claims = ClaimBatcher(
            sessions=self.sessions,
            readers=self.readers,
            clock=self.clock,
            writes=self.decision_writes,
            on_claimed=self.wake_decision_recorder,
        )
        self.signals.broadcast = lambda key: self.wakeups.publish(HANDOFF, key)
        self.wakeups.subscribe(HANDOFF, self.signals.wake)
        self.wakeups.subscribe(OUTBOX, lambda _key: self._wake_own_outbox())

    def wake_outbox(self) -> None:
        """Tell a delivery worker that rows were just committed: this process's own, which
        then delivers them, or, in a process that runs none, the workers of the others.

        Not every worker for every row: woken together, the workers of all processes raced
        to claim the same rows, each claim a write transaction; on SQLite those met the
        claims and decisions of clicks at the one write lock, whose busy handler sleeps,
        and added tens to hundreds of ms to a decision. The others still poll, so rows
        this process leaves (it stopped, its pacer holds a channel) are delivered anyway.
        """
        if self.outbox_wakeup is not None:
            self.outbox_wakeup()
        else:
            self.wakeups.publish(OUTBOX)

    def _wake_own_outbox(self) -> None:
        if self.outbox_wakeup is not None:
            self.outbox_wakeup()

    async def claim_handoff(
        self, *, handoff_id: str, decision: DecisionInput, check: ClaimCheck
    ) -> bool:
        """Claim ``handoff_id`` for a click's decision, with the claims of other clicks."""
        return await self.claims.claim(handoff_id=handoff_id, decision=decision, check=check)

    def wake_decision_recorder(self) -> None:
        """Tell the decision recorder that a click's claim was just committed."""
        self.decision_wakeup()

    def workflow(self, name: str) -> WorkflowConfig:
        """The brief of ``name``; a workflow removed from workflows.yml is not found."""
        workflow = self.config.workflow(name)
        if workflow is None:
            raise NotFound(
                f"workflow '{name}' is not in workflows.yml", details=[{"loc": "workflow"}]
            )
        return workflow


SERVICES = web.AppKey("services", Services)
