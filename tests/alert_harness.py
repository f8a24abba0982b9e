"""On-call alerts end to end: the real app, the Slack emulator, the real outbox worker.

``OnCall`` wraps ``tests.slack_harness.Slack`` (app, emulator, signed driver) with an
outbox worker that knows the alert renderers, and the few verbs the alert tests need:
report failures through the public API as an automation would, run an evaluation tick at
the ManualClock's time, deliver the outbox, and read what reached the alert channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import jobs
from bot.outbox import OutboxWorker, WorkerSettings
from bot.renderers import pause as renderers_pause
from bot.renderers.alerts import register_alert_renderers
from bot.renderers.chart_uploads import register_chart_uploads
from bot.renderers.registry import default_renderers
from bot.services import Services
from sandbox.driver import BotResponse
from sandbox.emulator import SlackEmulator
from sandbox.models import Message
from sandbox.testing import web_client
from store.models import Alert, OutboxMessage
from store.repositories import outbox as outbox_rows
from tests.conftest import Database, bearer
from tests.slack_harness import UNPACED, Slack, eventually, running_slack
from workflows.alerts.lifecycle import TickReport
from workflows.alerts.notify import post_key
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

ONCALL_CHANNEL = "C0ONCALL"
TIMEOUT = "timeout after 30 s for invoice 123"


def block_text(message: Message) -> str:
    """Every text in a message's blocks (and its fallback), one per line, for assertions."""
    found: list[str] = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(found)


@dataclass
class OnCall:
    slack: Slack
    worker: OutboxWorker
    clock: ManualClock

    @property
    def services(self) -> Services:
        return self.slack.services

    @property
    def emulator(self) -> SlackEmulator:
        return self.slack.emulator

    async def events(self, run_id: str, *events: dict[str, Any]) -> None:
        response = await self.slack.api.post(
            f"/api/v1/runs/{run_id}/events",
            json={"events": list(events)},
            headers=bearer(self.slack.token),
        )
        assert response.status == 202, await response.text()

    async def fail(self, error: str = TIMEOUT, *, times: int = 1) -> list[str]:
        """``times`` runs whose ``order_lookup`` call fails with ``error``; their run IDs."""
        run_ids = []
        for _ in range(times):
            run_id = await self.slack.start_run()
            await self.events(
                run_id,
                {"type": "tool", "name": "order_lookup", "status": "error", "error": error},
            )
            run_ids.append(run_id)
        return run_ids

    async def finish_failed(self, run_id: str, error: str) -> None:
        """Finish ``run_id`` as failed with ``error``, as an automation that gives up would."""
        response = await self.slack.api.post(
            f"/api/v1/runs/{run_id}/finish",
            json={"status": "failed", "error": error},
            headers=bearer(self.slack.token),
        )
        assert response.status == 200, await response.text()

    async def fail_runs(self, error: str, *, times: int) -> list[str]:
        """``times`` runs that fail with ``error`` and no failed step of their own."""
        run_ids = []
        for _ in range(times):
            run_id = await self.slack.start_run()
            await self.finish_failed(run_id, error)
            run_ids.append(run_id)
        return run_ids

    async def tick(self) -> TickReport:
        """One evaluation tick at the clock's time, as the scheduler runs it."""
        return await jobs.alert_tick(self.services)

    async def deliver(self) -> int:
        return await self.worker.run_once()

    async def tick_and_deliver(self) -> TickReport:
        report = await self.tick()
        await self.deliver()
        return report

    async def alerts(self) -> list[Alert]:
        async with self.services.readers() as db:
            rows = await db.execute(select(Alert).order_by(Alert.created_at, Alert.id))
            return list(rows.scalars())

    async def outbox(self) -> list[OutboxMessage]:
        async with self.services.readers() as db:
            rows = await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))
            return list(rows.scalars())

    def posts(self, channel: str = ONCALL_CHANNEL) -> list[Message]:
        """Top-level messages of ``channel``, oldest first."""
        return [m for m in self.emulator.messages(channel) if m.thread_ts in (None, m.ts)]

    def replies(self, message: Message) -> list[Message]:
        return [
            m
            for m in self.emulator.messages(message.channel)
            if m.thread_ts == message.ts and m.ts != message.ts
        ]

    def dms(self, user: str) -> list[Message]:
        return self.emulator.messages("D" + user[1:])

    async def alert_ts(self, alert_id: str) -> str:
        async with self.services.readers() as db:
            row = await outbox_rows.get_outbox_message(db, post_key(alert_id))
        assert row is not None, f"alert {alert_id} was never queued"
        assert row.result, f"alert {alert_id} was not posted"
        return str(row.result["ts"])

    async def click(
        self, action_id: str, alert_id: str, *, user: str, value: str | None = None
    ) -> BotResponse:
        """``user`` clicks ``action_id`` on the alert's message (a menu: picks ``value``)."""
        return await self.slack.driver.click(
            action_id=action_id,
            user=user,
            channel=ONCALL_CHANNEL,
            message_ts=await self.alert_ts(alert_id),
            value=value,
        )

    async def until(self, probe: Callable[[], Awaitable[Any]], *, what: str) -> Any:
        """Wait (bounded) for the detached click handler to have done its work."""

        async def found() -> Any:
            value = await probe()
            return value if value else None

        return await eventually(found, what=what)


@asynccontextmanager
async def running_oncall(
    *, database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[OnCall]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as slack:
        renderers = default_renderers()
        register_alert_renderers(renderers, config=config)
        register_chart_uploads(renderers, config=config)
        renderers_pause.register(renderers)
        worker = OutboxWorker(
            sessions=slack.services.sessions,
            readers=slack.services.readers,
            slack_client=web_client(slack.emulator),
            renderers=renderers,
            clock=clock,
            settings=WorkerSettings(pacing=UNPACED),
        )
        yield OnCall(slack, worker, clock)
