"""What a Slack handler finds in its bolt context, and the steps every review shares.

Bolt runs a listener after ``ack()`` in a detached task, so the context carries factories
(sessions, a clock, the directory), never an open database session: each handler opens its
own unit of work. ``bot/slack/app.py`` puts the values in; handlers read them through the
typed accessors here. ``Deps`` is a protocol so that ``handlers/`` does not import ``bot/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from handlers.escape import escape_mrkdwn
from store.engine import Sessions
from store.models import Decision, Handoff
from workflows.clock import Clock
from workflows.config.brief import WorkflowConfig
from workflows.errors import Conflict, NotFound
from workflows.ledger.views import HandoffView
from workflows.review.decisions import DecidedTooLate, DecisionInput, already_taken, record_decision
from workflows.review.handoffs import get_handoff_of, load_handoff_view
from workflows.roles import MemberDirectory, ensure_role

DEPS_KEY = "handrail_deps"
DIRECTORY_KEY = "handrail_directory"
#: Set by handlers as soon as they know them, so the error handler can log them.
HANDOFF_ID_KEY = "handrail_handoff_id"
RUN_ID_KEY = "handrail_run_id"
#: A refusal for a click made in the Home tab, which has no channel to answer in
#: ephemerally: ``handlers.home`` shows it at the top of the tab it publishes again.
HOME_NOTE_KEY = "handrail_home_note"


class Notifier(Protocol):
    def notify(self, key: str) -> None: ...


class Deps(Protocol):
    """What handlers use of ``bot.services.Services`` (read-only, so it can be narrower)."""

    @property
    def sessions(self) -> Sessions: ...

    @property
    def readers(self) -> Sessions: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def signals(self) -> Notifier: ...

    def wake_outbox(self) -> None: ...

    def wake_decision_recorder(self) -> None: ...

    async def claim_handoff(
        self,
        *,
        handoff_id: str,
        decision: DecisionInput,
        check: Callable[[Handoff | None], Awaitable[None]],
    ) -> bool: ...

    def workflow(self, name: str) -> WorkflowConfig: ...


def deps_of(context: Mapping[str, Any]) -> Deps:
    deps: Deps = context[DEPS_KEY]
    return deps


def directory_of(context: Mapping[str, Any]) -> MemberDirectory:
    directory: MemberDirectory = context[DIRECTORY_KEY]
    return directory


@dataclass(frozen=True, slots=True)
class Reviewing:
    """A handoff a reviewer may act on: its ID, run and workflow brief."""

    handoff_id: str
    run_id: str
    workflow: str
    policy: WorkflowConfig


async def check_reviewer(context: dict[str, Any], *, handoff_id: str, user: str) -> Reviewing:
    """Find the handoff and make sure ``user`` reviews its workflow, or raise.

    A read-only lookup, outside any write transaction on purpose: the role check may ask
    Slack for a usergroup's members, and on SQLite a write transaction holds the one write
    lock for its whole life.
    """
    context[HANDOFF_ID_KEY] = handoff_id
    async with deps_of(context).readers() as db:
        try:
            handoff = await get_handoff_of(db, handoff_id=handoff_id, workflow=None)
        except NotFound:
            raise gone(handoff_id) from None
    return await ensure_reviewer(context, handoff, handoff_id=handoff_id, user=user)


async def ensure_reviewer(
    context: dict[str, Any], handoff: Handoff | None, *, handoff_id: str, user: str
) -> Reviewing:
    """Make sure ``handoff`` (None: not found) exists and ``user`` reviews its workflow."""
    context[HANDOFF_ID_KEY] = handoff_id
    if handoff is None:
        raise gone(handoff_id)
    context[RUN_ID_KEY] = handoff.run_id
    policy = deps_of(context).workflow(handoff.workflow)
    await ensure_role(
        user,
        workflow=handoff.workflow,
        policy=policy,
        roles=("reviewer",),
        directory=directory_of(context),
    )
    return Reviewing(handoff_id, handoff.run_id, handoff.workflow, policy)


async def claim(context: dict[str, Any], *, handoff_id: str, decision: DecisionInput) -> bool:
    """Check the reviewer and claim the handoff for their click; False if it is taken.

    Called before the click is acknowledged, so the order of acknowledgements is the
    order of decisions. The check and the claim are made with those of other clicks
    arriving at the same time (``bot.decisions.claim_batcher``), and the decision is recorded from
    the claim right after (``bot.decisions.recorder``), or after a restart if the server
    dies first.
    """
    context[HANDOFF_ID_KEY] = handoff_id

    async def check(handoff: Handoff | None) -> None:
        await ensure_reviewer(context, handoff, handoff_id=handoff_id, user=decision.reviewer)

    return await deps_of(context).claim_handoff(
        handoff_id=handoff_id, decision=decision, check=check
    )


async def decide(context: dict[str, Any], *, handoff_id: str, decision: DecisionInput) -> Decision:
    """Check the reviewer, record the decision in one unit of work, then wake who waits.

    A decision that already lost (the handoff is claimed or decided) is refused from a
    read, without waiting for the write lock.
    The message update and the thread reply are outbox rows written by ``record_decision``
    in the same transaction; waking the worker after commit sends them. A decision that
    came too late is refused only after its transaction, which expired the handoff, commits.
    """
    reviewing = await check_reviewer(context, handoff_id=handoff_id, user=decision.reviewer)
    deps = deps_of(context)
    async with deps.readers() as db:
        taken = await already_taken(db, handoff_id=handoff_id, decision=decision)
    if taken is not None:
        raise taken
    too_late: DecidedTooLate | None = None
    async with deps.sessions() as db, db.begin():
        try:
            row = await record_decision(
                db,
                handoff_id=handoff_id,
                policy=reviewing.policy,
                decision=decision,
                now=deps.clock(),
            )
        except DecidedTooLate as refused:
            too_late = refused  # commit the expiry it wrote, then tell the person
    deps.signals.notify(handoff_id)
    deps.wake_outbox()
    if too_late is not None:
        raise too_late
    return row


async def read_handoff(context: dict[str, Any], handoff_id: str) -> HandoffView:
    """What a reviewer sees of the handoff now (to build a modal from)."""
    async with deps_of(context).readers() as db:
        try:
            return await load_handoff_view(db, handoff_id)
        except NotFound:
            raise gone(handoff_id) from None


def ensure_pending(view: HandoffView) -> None:
    """Raise ``Conflict`` when the handoff was already decided or expired: no modal to open."""
    if view.is_pending:
        return
    decision = view.decision
    if decision is None:
        raise Conflict(
            f"this handoff is {view.status.replace('_', ' ')}; there is nothing left to decide",
            details=[{"loc": "handoff_id", "status": view.status}],
        )
    raise Conflict(
        f"already {decision.outcome.replace('_', ' ')} by <@{decision.reviewer}> at "
        f"{decision.decided_at:%H:%M} UTC; nothing was changed",
        details=[{"loc": "handoff_id", "status": view.status, "reviewer": decision.reviewer}],
    )


def gone(handoff_id: str) -> NotFound:
    """The error for a click on a handoff that was removed (with its run) or never existed."""
    return NotFound(
        f"This handoff no longer exists ({escape_mrkdwn(handoff_id)}): it may have been "
        "removed with its run. Nothing was recorded.",
        details=[{"loc": "handoff_id", "handoff_id": handoff_id}],
    )
