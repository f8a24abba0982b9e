"""The pause switch: stop a workflow, or all of them, at once; resume it later.

The state lives in the ``workflows`` table, not in any process, so every Handrail instance
sees a pause on its next read: gates answer ``deny``, new handoffs get 423, decisions are
recorded but held (``workflows.review.decisions``). Slack, the CLI and the API all call the two
functions here: one state, three doors.

A change writes, in one transaction, the switch, an audit entry (who, when, why), an
in-place update of every open handoff message of the workflow (the paused banner appears
or goes) and a notice to each alert channel concerned. Resuming also releases what was
held, oldest first: the decisions (long-polls then answer) and the held outbox rows
(webhooks), unless a pause on all workflows still holds them.

Idempotent by design: pausing a paused workflow changes nothing, keeping the first pauser,
time and reason (the person who stopped things is the one to ask), and the answer says who
that was; resuming a running workflow changes nothing either. Neither no-op is audited,
because the audit log records changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import audit
from store.repositories import handoffs as handoff_rows
from store.repositories import pauses as pause_rows
from store.repositories import workflows as workflow_rows
from workflows.bodies.json_values import without_nul
from workflows.config.brief import HandrailConfig
from workflows.delivery import outbox
from workflows.errors import Forbidden, NotFound
from workflows.pause.state import ALL_WORKFLOWS, pause_state
from workflows.policy import PauseState
from workflows.redaction import Redactor, fit
from workflows.review.handoffs import refresh_message
from workflows.roles import MemberDirectory, Role, ensure_role, has_any_role

#: What people type for every workflow at once; stored as ``ALL_WORKFLOWS``.
ALL = "all"
PAUSE_NOTICE_RENDER = "pause_notice"
PAUSED = "workflow.pause"
RESUMED = "workflow.resume"
#: Who may pause: stopping must be easy. Only admins resume.
PAUSERS: tuple[Role, ...] = ("reviewer", "admin", "oncall")
REASON_MAX = 1000
#: Reasons and notes are people's words, not a workflow's data: secrets only, always on.
_SECRETS = Redactor()


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseOutcome:
    """What a pause or resume did, for the answer to the person who asked."""

    target: str
    """A workflow name, or ``ALL_WORKFLOWS``."""
    changed: bool
    """False when the switch was already where it was asked to be."""
    paused_by: str | None = None
    paused_at: datetime | None = None
    reason: str | None = None
    released_decisions: int = 0
    released_deliveries: int = 0
    released_handoffs: tuple[str, ...] = ()
    """Handoffs whose held decision was released: wake their long-polls after commit."""
    still_paused: PauseState | None = None
    """After a resume: the pause on all workflows that still holds this one."""
    told: tuple[str, ...] = ()
    """The alert channels a notice was queued for."""

    @property
    def label(self) -> str:
        return "all workflows" if self.target == ALL_WORKFLOWS else self.target


def resolve_target(config: HandrailConfig, raw: str) -> str:
    """``all`` (or ``*``) → ``ALL_WORKFLOWS``; a configured name → itself; else ``NotFound``."""
    name = raw.strip()
    if name.lower() in (ALL, ALL_WORKFLOWS):
        return ALL_WORKFLOWS
    if config.workflow(name) is None:
        known = ", ".join(sorted(config.workflows)) or "none"
        raise NotFound(
            f"no workflow named '{name}' in workflows.yml (known: {known}; or 'all')",
            details=[{"loc": "workflow", "value": name}],
        )
    return name


def covered(config: HandrailConfig, target: str) -> list[str]:
    """The configured workflows a switch on ``target`` stops."""
    return sorted(config.workflows) if target == ALL_WORKFLOWS else [target]


async def check_may_pause(
    user: str, *, config: HandrailConfig, target: str, directory: MemberDirectory
) -> None:
    """Reviewers, admins and on-call of a workflow may pause it; of any workflow, all of them."""
    if target != ALL_WORKFLOWS:
        await ensure_role(
            user,
            workflow=target,
            policy=config.workflows[target],
            roles=PAUSERS,
            directory=directory,
        )
        return
    for policy in config.workflows.values():
        if await has_any_role(user, policy=policy, roles=PAUSERS, directory=directory):
            return
    raise Forbidden(
        f"Permission denied: <@{user}> is not a reviewer, admin or on-call of any workflow, "
        "so may not pause them all; ask someone on a workflow to do it",
        details=[{"loc": "user", "user": user, "roles": list(PAUSERS)}],
    )


async def check_may_resume(
    user: str, *, config: HandrailConfig, target: str, directory: MemberDirectory
) -> None:
    """Only admins resume; resuming all releases everything, so it needs admin of each."""
    for name in covered(config, target):
        await ensure_role(
            user,
            workflow=name,
            policy=config.workflows[name],
            roles=("admin",),
            directory=directory,
        )


async def pause_workflow(
    db: AsyncSession,
    *,
    config: HandrailConfig,
    workflow: str,
    actor: str,
    reason: str | None,
    now: datetime,
) -> PauseOutcome:
    """Pause ``workflow`` (a name, ``all`` or ``*``) for every instance at once."""
    target = resolve_target(config, workflow)
    reason = _clean_reason(reason)
    # The row for all workflows is made on first use; a configured one exists from start-up.
    await workflow_rows.create_missing_workflows(db, [target], now)
    if not await workflow_rows.set_paused(db, target, by=actor, reason=reason, now=now):
        current = await workflow_rows.get_workflow(db, target)
        assert current is not None  # the row exists: the pause we lost to is on it
        return PauseOutcome(
            target=target,
            changed=False,
            paused_by=current.paused_by,
            paused_at=current.paused_at,
            reason=current.paused_reason,
        )
    entry = await audit.create_audit_entry(
        db, actor=actor, action=PAUSED, workflow=target, details={"reason": reason}, now=now
    )
    names = covered(config, target)
    await _refresh_open_messages(db, names, tag=f"pause-{entry.id}", now=now)
    told = await _tell_alert_channels(db, config, names, entry_id=entry.id, now=now)
    return PauseOutcome(
        target=target, changed=True, paused_by=actor, paused_at=now, reason=reason, told=told
    )


async def resume_workflow(
    db: AsyncSession,
    *,
    config: HandrailConfig,
    workflow: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> PauseOutcome:
    """Resume ``workflow`` and release what its pause held, in the order it was held.

    Every switch this resume reads is locked first: a decision or expiry holding them
    (``hold_pause_state``) finishes before this decides what to release, and a resume of
    one workflow and a resume of all take turns, so the last of them releases.
    """
    target = resolve_target(config, workflow)
    await workflow_rows.read_pause_switches(
        db, [target, ALL_WORKFLOWS, *covered(config, target)], lock="update"
    )
    cleared = await workflow_rows.clear_paused(db, target)
    if cleared is None:
        still = await pause_state(db, target) if target != ALL_WORKFLOWS else None
        return PauseOutcome(target=target, changed=False, still_paused=still)
    paused_by, paused_at, reason = cleared
    names = covered(config, target)
    handoffs: list[str] = []
    decisions = deliveries = 0
    for name in names:
        if await pause_state(db, name) is not None:
            continue  # still paused on its own, or by the pause on all
        handoffs.extend(await pause_rows.list_held_handoff_ids(db, name))
        decisions += await handoff_rows.release_held_decisions(db, name, now)
        deliveries += await outbox.release_held(db, workflow=name, now=now)
    entry = await audit.create_audit_entry(
        db,
        actor=actor,
        action=RESUMED,
        workflow=target,
        details={
            "note": _clean_reason(note),
            "paused_by": paused_by,
            "paused_at": paused_at.isoformat(),
            "paused_reason": reason,
            "released_decisions": decisions,
            "released_deliveries": deliveries,
        },
        now=now,
    )
    await _refresh_open_messages(db, names, tag=f"resume-{entry.id}", now=now)
    told = await _tell_alert_channels(db, config, names, entry_id=entry.id, now=now)
    return PauseOutcome(
        target=target,
        changed=True,
        paused_by=paused_by,
        paused_at=paused_at,
        reason=reason,
        released_decisions=decisions,
        released_deliveries=deliveries,
        released_handoffs=tuple(handoffs),
        still_paused=await pause_state(db, target) if target != ALL_WORKFLOWS else None,
        told=told,
    )


def _clean_reason(reason: str | None) -> str | None:
    """One tidy line with its secrets redacted, or None; an over-long one is cut, not refused.

    People paste what they were looking at into a reason ("leaked sk-... in drafts"), and
    reasons are stored, audited and posted, so secrets go before any of that. Every door
    (Slack, the CLI, the API, the alert's button) comes through here, so a pause never fails
    on its reason either: a NUL, which PostgreSQL refuses, is kept as U+FFFD, as in every
    other stored text.
    """
    if reason is None or not reason.strip():
        return None
    text = str(_SECRETS.redact(" ".join(without_nul(reason).split())).value)
    return fit(text, REASON_MAX)


async def _refresh_open_messages(
    db: AsyncSession, names: Sequence[str], *, tag: str, now: datetime
) -> None:
    """Queue an in-place update of every open handoff message: the banner shows or goes.

    ``tag`` names this change, so a second pause after a resume updates the messages again
    instead of being taken for the first one's update by the outbox's de-duplication.
    """
    for handoff in await pause_rows.list_pending_handoffs(db, names):
        await refresh_message(db, handoff=handoff, reason=tag, now=now)


async def _tell_alert_channels(
    db: AsyncSession, config: HandrailConfig, names: Sequence[str], *, entry_id: int, now: datetime
) -> tuple[str, ...]:
    """One notice per alert channel concerned, rendered from the audit entry.

    Notices to one channel share an ordering key, so a resume never overtakes its pause.
    A workflow without an ``alert_channel`` gets no notice.
    """
    channels = sorted({c for name in names if (c := config.workflows[name].alert_channel)})
    for channel in channels:
        await outbox.post_message(
            db,
            key=f"pause-notice:{entry_id}:{channel}",
            channel=channel,
            render=PAUSE_NOTICE_RENDER,
            ref=str(entry_id),
            ordering_key=f"pause-notices:{channel}",
            workflow=names[0] if len(names) == 1 else None,
            now=now,
        )
    return tuple(channels)
