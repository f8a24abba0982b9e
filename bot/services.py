"""What the web handlers, Slack handlers and jobs share: built once by ``build_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics
from bot.settings import Settings
from bot.signals import Signals
from bot.wakeups import HANDOFF, OUTBOX, Wakeups
from store.engine import Sessions, create_read_sessions
from workflows.clock import Clock
from workflows.config import HandrailConfig, WorkflowConfig
from workflows.errors import NotFound
from workflows.redaction import RedactionPolicy, Redactor


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
    signals: Signals = field(default_factory=Signals)
    outbox_wakeup: Callable[[], None] = field(default=lambda: None)
    wakeups: Wakeups = field(default_factory=Wakeups)
    """Carries ``signals`` and ``wake_outbox`` to the other processes on this database."""

    def __post_init__(self) -> None:
        if not self.redactors:
            self.redactors = build_redactors(self.config)
        self.readers = create_read_sessions(self.engine)
        self.signals.broadcast = lambda key: self.wakeups.publish(HANDOFF, key)
        self.wakeups.subscribe(HANDOFF, self.signals.wake)
        self.wakeups.subscribe(OUTBOX, lambda _key: self.outbox_wakeup())

    def wake_outbox(self) -> None:
        """Tell the delivery workers (this process's and the others') that rows were just
        committed."""
        self.wakeups.publish(OUTBOX)

    def workflow(self, name: str) -> WorkflowConfig:
        """The brief of ``name``; a workflow removed from workflows.yml is not found."""
        workflow = self.config.workflow(name)
        if workflow is None:
            raise NotFound(
                f"workflow '{name}' is not in workflows.yml", details=[{"loc": "workflow"}]
            )
        return workflow


SERVICES = web.AppKey("services", Services)
