"""Records the decisions that clicks claimed before their ack, in batches, oldest first.

A click claims its handoff before Slack is answered (``handlers.actions``); this task turns
claims into decisions. Batching is what keeps a burst fast: one transaction records many
decisions (their trace steps, message updates, replies and webhooks), instead of one
transaction, one commit and one wake-up per click. It runs in every server process, is
woken by each claim, and also looks on its own every few seconds and at start, so a claim
left by a crash, or by another process that stopped, is recorded all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.services import Services
from workflows.review.claims import record_claimed_decisions

log = logging.getLogger("handrail.decisions")

#: Decisions per transaction at most: a batch takes what is claimed, up to this. Its cost
#: is a handful of statements whatever its size (``workflows.decisions.record_decisions``),
#: and the claims of new clicks (before their ack) wait for the batch being written
#: (``Services.decision_writes``): a few tens of ms.
BATCH = 100
#: How often claims are looked for without a wake-up (left by a crash or another process).
POLL_SECONDS = 5.0


class DecisionRecorder:
    """Owns the recording task; ``start()`` once, ``wake()`` after a claim, ``stop()`` once."""

    def __init__(
        self, services: Services, *, batch: int = BATCH, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.services = services
        self.batch = batch
        self.poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Record what was just claimed (call it after the claim commits)."""
        self._wakeup.set()

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the decision recorder is already started")
        self.services.decision_wakeup = self.wake
        self._task = asyncio.create_task(self._run(), name="handrail-decision-recorder")

    async def stop(self) -> None:
        """Finish the batch being recorded, then end the task."""
        if self._task is None:
            return
        self._stopping = True
        self.wake()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def record_once(self) -> int:
        """Record one batch in one transaction; wake the long-polls and the outbox after it."""
        services = self.services
        async with services.decision_writes, services.sessions() as db, db.begin():
            handled = await record_claimed_decisions(
                db, policy_of=services.workflow, limit=self.batch
            )
        for handoff_id in handled:
            services.signals.notify(handoff_id)
        if handled:
            services.wake_outbox()
        return len(handled)

    async def record_all(self) -> None:
        """Record batches until a batch comes back short (nothing more is claimed), or
        the recorder is stopping: what is left stays claimed, for the next start."""
        while True:
            if await self.record_once() < self.batch or self._stopping:
                return
            await asyncio.sleep(0)  # let the acks of new clicks through between batches

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                await self.record_all()
            except Exception:  # logged, tried again at the next wake-up or poll
                log.exception("could not record the claimed decisions; trying again")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)
