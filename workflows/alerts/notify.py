"""Every Slack write an alert causes, as outbox rows with keys that say what they are.

One message per alert in the workflow's alert channel (``alert:<id>:post``), updated in
place; thread replies for what people must notice (a repeat, an escalation, the
resolution); a DM to each on-call person when nobody acknowledged. Each row's dedupe key
names the transition that caused it, so a tick that runs twice, or a Slack outage that
keeps rows waiting, never posts anything twice: the second row with a key is ignored.
Updates name the alert's state (``update:n12`` for count 12), and the worker renders the
alert as it stands when the row is sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from workflows.config.brief import WorkflowConfig
from workflows.delivery import outbox

ALERT_RENDER = "alert"
ALERT_REPEAT_RENDER = "alert_repeat"
ALERT_ESCALATION_RENDER = "alert_escalation"
ALERT_RESOLVED_RENDER = "alert_resolved"
HANDOFF_REMINDER_RENDER = "handoff_reminder"
CREDENTIAL_REMINDER_RENDER = "credential_reminder"


def post_key(alert_id: str) -> str:
    """The outbox key of the alert's message; updates and thread replies refer to it."""
    return f"alert:{alert_id}:post"


def people(ids: list[str]) -> list[str]:
    """The user IDs among role entries (usergroups are mentioned, never DMed)."""
    return [entry for entry in ids if entry[:1] in ("U", "W")]


async def announce(
    db: AsyncSession, *, alert_id: str, workflow: str, policy: WorkflowConfig, now: datetime
) -> None:
    """Post the alert's one message in the alert channel (first fire only)."""
    if policy.alert_channel is None:
        return
    await outbox.post_message(
        db,
        key=post_key(alert_id),
        channel=policy.alert_channel,
        render=ALERT_RENDER,
        ref=alert_id,
        workflow=workflow,
        now=now,
    )


async def refresh(
    db: AsyncSession,
    *,
    alert_id: str,
    workflow: str,
    policy: WorkflowConfig,
    tag: str,
    now: datetime,
) -> None:
    """Update the alert's message in place; ``tag`` names the state it now shows."""
    if policy.alert_channel is None:
        return
    await outbox.update_message(
        db,
        key=f"alert:{alert_id}:update:{tag}",
        message_key=post_key(alert_id),
        render=ALERT_RENDER,
        ref=alert_id,
        workflow=workflow,
        now=now,
    )


async def reply(
    db: AsyncSession,
    *,
    alert_id: str,
    workflow: str,
    policy: WorkflowConfig,
    render: str,
    tag: str,
    now: datetime,
) -> None:
    """A reply in the alert's thread, queued behind the message it replies to."""
    if policy.alert_channel is None:
        return
    await outbox.post_message(
        db,
        key=f"alert:{alert_id}:{tag}",
        channel=policy.alert_channel,
        render=render,
        ref=alert_id,
        thread_of=post_key(alert_id),
        ordering_key=post_key(alert_id),
        workflow=workflow,
        now=now,
    )


async def escalate(
    db: AsyncSession, *, alert_id: str, workflow: str, policy: WorkflowConfig, now: datetime
) -> None:
    """Mention on-call in the thread and DM each on-call person (the outbox opens the DM
    with ``conversations.open``). Usergroups are mentioned in the thread only."""
    await reply(
        db,
        alert_id=alert_id,
        workflow=workflow,
        policy=policy,
        render=ALERT_ESCALATION_RENDER,
        tag="escalation",
        now=now,
    )
    for user in people(policy.oncall):
        await outbox.post_message(
            db,
            key=f"alert:{alert_id}:escalation:dm:{user}",
            channel=user,
            render=ALERT_ESCALATION_RENDER,
            ref=alert_id,
            workflow=workflow,
            now=now,
        )
    await refresh(db, alert_id=alert_id, workflow=workflow, policy=policy, tag="escalated", now=now)
