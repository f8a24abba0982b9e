"""Token hygiene: reminders before a token expires or once it is old, alerts on misuse.

A token is a service account's key; it should be rotated before it stops working and
after a while in any case. Admins get a reminder in a DM (the alert channel when no admin
is a person) at most once a week per token and reason, so the reminder stays something
people read. A revoked or expired token that is still presented means an automation is
broken or a key leaked: that is an alert (rule ``credential_misuse``), fed by a counter on
the credential that the API bumps when it refuses the token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Credential
from store.repositories import alert_sources
from workflows.alerts.findings import CREDENTIAL_MISUSE, Finding
from workflows.alerts.notify import CREDENTIAL_REMINDER_RENDER, people
from workflows.config.brief import HandrailConfig, WorkflowConfig
from workflows.delivery import outbox

EXPIRING = "expiring"
OLD = "old"


def reminder_reasons(credential: Credential, policy: WorkflowConfig, now: datetime) -> list[str]:
    """Why a live token needs attention now: ``expiring`` soon, or ``old``."""
    rules = policy.alerts.credentials
    reasons = []
    expires = credential.expires_at
    if expires is not None and now < expires <= now + rules.expiry_warning:
        reasons.append(EXPIRING)
    if credential.created_at <= now - rules.rotate_after and (expires is None or expires > now):
        reasons.append(OLD)
    return reasons


async def send_credential_reminders(
    db: AsyncSession, *, config: HandrailConfig, now: datetime
) -> int:
    """Queue this week's reminders for tokens that expire soon or are due for rotation."""
    week = now.strftime("%G-W%V")
    queued = 0
    for credential in await alert_sources.list_live_credentials(db):
        policy = config.workflow(credential.workflow)
        if policy is None:
            continue
        for reason in reminder_reasons(credential, policy, now):
            ref = f"{credential.id}:{reason}"
            admins = people(policy.admins)
            targets = admins or ([policy.alert_channel] if policy.alert_channel else [])
            for target in targets:
                await outbox.post_message(
                    db,
                    key=f"credential:{ref}:{week}:{target}",
                    channel=target,
                    render=CREDENTIAL_REMINDER_RENDER,
                    ref=ref,
                    workflow=credential.workflow,
                    now=now,
                )
                queued += 1
    return queued


async def record_rejected_token(db: AsyncSession, *, credential_id: str, now: datetime) -> None:
    """Count a use of a revoked or expired token, for the misuse rule to pick up."""
    await alert_sources.note_rejected_credential(db, credential_id, now)


async def misused_tokens(
    db: AsyncSession, *, config: HandrailConfig, now: datetime
) -> dict[str, list[Finding]]:
    """Per workflow: the revoked or expired tokens presented within the misuse window."""
    windows = [policy.alerts.credentials.misuse_window for policy in config.workflows.values()]
    if not windows:
        return {}
    found: dict[str, list[Finding]] = {}
    for credential in await alert_sources.list_rejected_since(db, now - max(windows)):
        policy = config.workflow(credential.workflow)
        seen = credential.rejected_at
        if policy is None or seen is None:
            continue
        if seen < now - policy.alerts.credentials.misuse_window:
            continue
        state = "revoked" if credential.revoked_at is not None else "expired"
        label = f" “{credential.label}”" if credential.label else ""
        found.setdefault(credential.workflow, []).append(
            Finding(
                rule=CREDENTIAL_MISUSE,
                fingerprint=credential.id,
                title=f"A {state} token ({credential.prefix}{label}) is still being used",
                threshold="any use of a revoked or expired token",
                occurrences=(seen,),
                sample=(
                    f"{credential.rejected_count} refused request(s) so far; the automation "
                    "holding it needs a new token (handrail token create "
                    f"{credential.workflow})"
                ),
                details={
                    "credential_id": credential.id,
                    "prefix": credential.prefix,
                    "attempts": credential.rejected_count,
                },
            )
        )
    return found
