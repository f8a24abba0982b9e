"""The outbox delivery worker: claim due rows, deliver them side by side, record each one.

Every instance may run one; rows are claimed in SQL (``store.repositories.outbox``), so two
workers never hold the same row, and a worker that dies mid-delivery loses its rows when
their lease runs out. Nothing here sleeps for a backoff or a rate limit: a row that must
wait is put back with the time it is due, and the loop sleeps until the next due row,
``wake()`` or at most ``poll_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.deliver import Deliverer
from bot.outbox.outcomes import Later, Retry
from bot.outbox.record import Recorder
from bot.outbox.settings import WorkerSettings
from bot.outbox.slack import SlackSender
from bot.outbox.webhook import WebhookSecrets, WebhookSender
from bot.renderers.registry import Renderers
from store.busy import is_store_busy
from store.engine import Sessions
from store.models import OutboxMessage
from store.repositories import outbox as repo
from workflows.clock import Clock
from workflows.delivery import outbox

log = logging.getLogger("handrail.outbox")


def _no_secrets(_workflow: str) -> str | None:
    return None


class OutboxWorker:
    """Delivers outbox rows to Slack and to automations' callbacks.

    Without a Slack client, Slack rows wait in the outbox (webhooks still go out); without
    an HTTP session, webhook rows wait.
    """

    def __init__(
        self,
        *,
        sessions: Sessions,
        slack_client: AsyncWebClient | None,
        renderers: Renderers,
        clock: Clock,
        http_session: aiohttp.ClientSession | None = None,
        webhook_secrets: WebhookSecrets = _no_secrets,
        readers: Sessions | None = None,
        settings: WorkerSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.kinds: tuple[str, ...] = ()
        if slack_client is not None:
            self.kinds += (outbox.SLACK_POST, outbox.SLACK_UPDATE, outbox.SLACK_UPLOAD)
        if http_session is not None:
            self.kinds += (outbox.WEBHOOK,)
        self.deliverer = Deliverer(
            readers=readers or sessions,
            renderers=renderers,
            clock=clock,
            settings=self.settings,
            slack=None
            if slack_client is None
            else SlackSender(
                slack_client,
                timeout=self.settings.slack_timeout,
                history_pages=self.settings.history_pages,
            ),
            webhooks=None
            if http_session is None
            else WebhookSender(
                http_session, webhook_secrets, timeout=self.settings.webhook_timeout
            ),
        )
        self.recorder = Recorder(
            sessions=sessions,
            clock=clock,
            settings=self.settings,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
        )
        self._posting: set[str] = set()
        """Channels with a post claimed by this worker and not yet settled."""
        self._wakeup = asyncio.Event()
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def stats(self) -> Counter[str]:
        """Outcomes so far: ``done``, ``failed``, ``retried``, ``paced``, ``lost_claim``."""
        return self.recorder.stats

    # --- one pass, for tests and scripts ---------------------------------------------

    async def run_once(self) -> int:
        """Deliver every row due now; returns how many were attempted (paced rows aren't)."""
        attempted = 0
        while rows := await self._claim(self.settings.concurrency, self.clock()):
            results = await asyncio.gather(*(self._handle(row) for row in rows))
            attempted += sum(results)
        return attempted

    # --- the long-running loop -------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now (call after enqueueing, once the transaction commits)."""
        self._wakeup.set()

    def start(self) -> None:
        """Run the loop in a background task until ``stop()``."""
        if self._task is not None:
            raise RuntimeError("the outbox worker is already running")
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self.run_forever(self._stopping), name="outbox-worker")

    async def stop(self) -> None:
        """Stop claiming, let deliveries in flight finish (bounded), and return."""
        if self._task is None or self._stopping is None:
            return
        self._stopping.set()
        self.wake()
        try:
            await self._task
        finally:
            self._task = None

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Claim as slots free up, until ``stop`` is set; then drain what is in flight."""
        in_flight: set[asyncio.Task[int]] = set()
        relay = asyncio.create_task(self._relay(stop))
        try:
            while not stop.is_set():
                self._wakeup.clear()
                free = self.settings.concurrency - len(in_flight)
                claimed: list[OutboxMessage] = []
                looked_at = self.clock()
                if free > 0:
                    claimed = await self._claim_safely(free, looked_at)
                    for row in claimed:
                        task = asyncio.create_task(self._handle(row))
                        in_flight.add(task)
                        task.add_done_callback(self._finished(in_flight))
                    if len(claimed) == free:
                        continue
                await self._idle(await self._idle_time(free, len(claimed), looked_at))
        finally:
            relay.cancel()
            await self._drain(in_flight)

    # --- internals -------------------------------------------------------------------

    async def _claim(self, limit: int, now: datetime) -> list[OutboxMessage]:
        """Claim due rows, leaving posts to channels the pacer holds back unclaimed."""
        if not self.kinds:
            return []
        async with self.sessions() as db, db.begin():
            rows = await repo.claim_outbox(
                db,
                now=now,
                lease=self.settings.lease,
                limit=limit,
                kinds=self.kinds,
                skip_channels=self._held_back(now),
            )
        for row in rows:
            if row.kind == outbox.SLACK_POST:
                self._posting.add(str(row.payload.get("channel")))
        return list(rows)

    def _held_back(self, now: datetime) -> dict[str, float]:
        """Channels whose posts are not claimed now, with when to look at them again:
        ``lead`` seconds before the pacer lets them post, or, for a channel whose post is
        already claimed here, when that delivery ends (which wakes the loop)."""
        lead, at = self.settings.lead, now.timestamp()
        held = {
            channel: ready - lead
            for channel, ready in self.deliverer.pacer.not_ready(at + lead).items()
        }
        for channel in self._posting:
            held.setdefault(channel, at + self.settings.poll_interval)
        return held

    async def _claim_safely(self, limit: int, now: datetime) -> list[OutboxMessage]:
        try:
            return await self._claim(limit, now)
        except Exception:
            log.exception("outbox: claiming rows failed; trying again shortly")
            return []

    def _finished(self, in_flight: set[asyncio.Task[int]]) -> Callable[[asyncio.Task[int]], None]:
        def done(task: asyncio.Task[int]) -> None:
            in_flight.discard(task)
            self._wakeup.set()

        return done

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wakeup.set()

    async def _idle_time(self, free: int, claimed: int, looked_at: datetime) -> float:
        """Until the next due row, at most ``poll_interval``; all of it when no slot is free
        or when rows already due at the last claim were not claimed (another instance
        holds them, or they are behind an unsettled row)."""
        poll = self.settings.poll_interval
        if free <= 0:
            return poll
        now = self.clock()
        busy = self._held_back(now)
        try:
            async with self.deliverer.readers() as db:
                due = await repo.next_due_at(db, kinds=self.kinds, skip_channels=busy)
        except Exception as error:
            if not is_store_busy(error):
                log.exception("outbox: reading the next due time failed")
            return poll
        wait = poll
        if due is not None:
            if due <= looked_at and claimed == 0:
                return poll
            wait = min(wait, (due - now).total_seconds())
        if busy:
            # A held-back channel may have rows waiting: look again when it is (nearly) ready.
            wait = min(wait, min(busy.values()) - now.timestamp())
        return max(0.0, wait)

    async def _idle(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)

    async def _drain(self, in_flight: set[asyncio.Task[int]]) -> None:
        if not in_flight:
            return
        _done, pending = await asyncio.wait(in_flight, timeout=self.settings.drain_timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "outbox: %d deliveries were cut short on stop; their rows are retried after "
                "their lease, and Slack posts are looked for before being posted again",
                len(pending),
            )
            await asyncio.wait(pending)

    async def _handle(self, row: OutboxMessage) -> int:
        """Attempt one row and record the outcome; 1 if it was attempted, 0 if paced."""
        try:
            return await self._handle_claimed(row)
        finally:
            if row.kind == outbox.SLACK_POST:
                self._posting.discard(str(row.payload.get("channel")))

    async def _handle_claimed(self, row: OutboxMessage) -> int:
        try:
            async with asyncio.timeout(self.settings.attempt_deadline):
                outcome = await self.deliverer.attempt(row)
        except TimeoutError:
            outcome = Retry(
                f"delivery took longer than {self.settings.attempt_deadline:g} s", maybe_sent=True
            )
        except Exception as error:
            if is_store_busy(error):
                log.warning("outbox #%s (%s): %s; retried", row.id, row.workflow, error)
            else:
                log.exception("outbox #%s (%s): unexpected error", row.id, row.workflow)
            outcome = Retry(f"{type(error).__name__}: {error}", maybe_sent=True)
        try:
            await self.recorder.record(row, outcome)
        except Exception:
            log.exception(
                "outbox #%s (%s): recording %s failed; the row is retried after its lease",
                row.id,
                row.workflow,
                type(outcome).__name__,
            )
        return 0 if isinstance(outcome, Later) else 1
