"""Claims of many clicks written together: one transaction for all that arrived meanwhile.

A click's claim is made before its ack (``handlers.actions``), so its cost is ack latency.
One read and one write transaction per click cost a connection, a BEGIN, a commit, a few
round trips through a busy event loop and, on SQLite, a turn at the one write lock each:
a burst of a few hundred clicks then queues for seconds. Here the claims that arrive while
a batch is being written wait for the next one, which takes them all (a group commit):
one read finds their handoffs, each click's own check (is the clicker a reviewer?) runs on
its handoff, and one statement claims every handoff whose check passed, each at the time
its click arrived. Each click still learns whether its own claim won, or why not. Claim
batches and the recorder's batches (``bot.decisions.recorder``) take turns at
``Services.decision_writes``, so a claim waits for one short batch of decisions at most.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from store.engine import Sessions
from store.models import Handoff
from store.repositories import handoffs as repo
from workflows.clock import Clock
from workflows.errors import HandrailError
from workflows.review.claims import ClickClaim, claim_decisions
from workflows.review.decisions import DecisionInput

#: Raises (a ``HandrailError``) when the click may not decide this handoff; None: not found.
ClaimCheck = Callable[[Handoff | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Waiting:
    handoff_id: str
    decision: DecisionInput
    check: ClaimCheck
    at: datetime
    answer: asyncio.Future[bool]


class ClaimBatcher:
    """``await claim(...)`` from any click; ``on_claimed`` is called after each commit."""

    def __init__(
        self,
        *,
        sessions: Sessions,
        readers: Sessions,
        clock: Clock,
        writes: asyncio.Lock,
        on_claimed: Callable[[], None],
    ) -> None:
        self.sessions = sessions
        self.writes = writes
        self.readers = readers
        self.clock = clock
        self.on_claimed = on_claimed
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def claim(self, *, handoff_id: str, decision: DecisionInput, check: ClaimCheck) -> bool:
        """Claim ``handoff_id`` for ``decision``: True if it was pending and unclaimed.

        ``check`` is run on the handoff first; what it raises is raised here, as is a
        refusal of this claim alone (an outcome the handoff does not offer). Other claims
        of the same batch are not affected.
        """
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(handoff_id, decision, check, self.clock(), answer))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await answer

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write(await self._checked(batch))
                except Exception as error:  # the batch failed: every click in it is told
                    for waiting in batch:
                        _answer(waiting, error)
        finally:
            self._writer = None

    async def _checked(self, batch: list[_Waiting]) -> list[tuple[_Waiting, Handoff]]:
        """The claims whose check passed, with their handoff; the others get its error."""
        async with self.readers() as db:
            rows = await repo.list_handoffs(db, [waiting.handoff_id for waiting in batch])
        found = {row.id: row for row in rows}
        passed: list[tuple[_Waiting, Handoff]] = []
        for waiting in batch:
            handoff = found.get(waiting.handoff_id)
            try:
                await waiting.check(handoff)
            except HandrailError as refused:
                _answer(waiting, refused)
            else:
                if handoff is not None:
                    passed.append((waiting, handoff))
        return passed

    async def _write(self, passed: list[tuple[_Waiting, Handoff]]) -> None:
        if not passed:
            return
        claims = [ClickClaim(handoff=h, decision=w.decision, at=w.at) for w, h in passed]
        async with self.writes, self.sessions() as db, db.begin():
            results = await claim_decisions(db, claims)
        for (waiting, _), result in zip(passed, results, strict=True):
            _answer(waiting, result)
        if any(result is True for result in results):
            self.on_claimed()


def _answer(waiting: _Waiting, result: bool | Exception) -> None:
    """Give the click its answer, unless its task was cancelled meanwhile."""
    if waiting.answer.done():
        return
    if isinstance(result, Exception):
        waiting.answer.set_exception(result)
    else:
        waiting.answer.set_result(result)
