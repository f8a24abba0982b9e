"""Renderers for alerts, reminders and the weekly review, registered on the outbox's registry.

Kept apart from ``bot.renderers.registry`` because these need the workflows' briefs (who is on
call, who reviews, the rotation period), which a ``render(db, ref)`` cannot read from the
database; ``register_alert_renderers`` closes over the config once, at wiring time.
Each renderer reads the record as it stands when the row is sent.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.renderers.registry import Render
from handlers.blocks import Message
from handlers.blocks._parts import kind_label
from handlers.blocks.alerts import (
    alert_escalation,
    alert_message,
    alert_repeat_reply,
    alert_resolved_reply,
    credential_reminder,
    handoff_reminder,
)
from handlers.blocks.digest import digest_message
from store.repositories import alert_sources
from workflows.alerts import notify
from workflows.alerts.views import load_alert_view
from workflows.config.brief import HandrailConfig
from workflows.digest.review import DIGEST_RENDER, build_digest, parse_digest_ref
from workflows.durations import format_duration
from workflows.errors import NotFound
from workflows.review.handoffs import get_handoff_of


class Registry(Protocol):
    def register(self, name: str, render: Render) -> None: ...


def alert_renderers(config: HandrailConfig) -> dict[str, Render]:
    """Every renderer the alert, reminder and digest rows name, by name."""

    async def render_alert(db: AsyncSession, ref: str) -> Message:
        return alert_message(await load_alert_view(db, ref))

    async def render_repeat(db: AsyncSession, ref: str) -> Message:
        return alert_repeat_reply(await load_alert_view(db, ref))

    async def render_resolved(db: AsyncSession, ref: str) -> Message:
        return alert_resolved_reply(await load_alert_view(db, ref))

    async def render_escalation(db: AsyncSession, ref: str) -> Message:
        view = await load_alert_view(db, ref)
        policy = config.workflow(view.workflow)
        return alert_escalation(view, policy.oncall if policy else [])

    async def render_handoff_reminder(db: AsyncSession, ref: str) -> Message:
        handoff = await get_handoff_of(db, handoff_id=ref, workflow=None)
        policy = config.workflow(handoff.workflow)
        return handoff_reminder(
            workflow=handoff.workflow,
            kind_label=kind_label(handoff.kind),
            summary=handoff.summary,
            opened_at=handoff.created_at,
            expires_at=handoff.expires_at,
            reviewers=policy.reviewers if policy else [],
        )

    async def render_credential_reminder(db: AsyncSession, ref: str) -> Message:
        credential_id, _, reason = ref.rpartition(":")
        credential = await alert_sources.get_credential(db, credential_id)
        if credential is None:
            raise NotFound(f"no credential '{credential_id}'", details=[{"loc": "ref"}])
        policy = config.workflow(credential.workflow)
        rotate = policy.alerts.credentials.rotate_after if policy else None
        return credential_reminder(
            workflow=credential.workflow,
            prefix=credential.prefix,
            label=credential.label,
            reason=reason,
            created_at=credential.created_at,
            expires_at=credential.expires_at,
            rotate_after=format_duration(rotate) if rotate else "the rotation period",
        )

    async def render_digest(db: AsyncSession, ref: str) -> Message:
        workflow, end = parse_digest_ref(ref)
        return digest_message(await build_digest(db, config=config, workflow=workflow, now=end))

    return {
        notify.ALERT_RENDER: render_alert,
        notify.ALERT_REPEAT_RENDER: render_repeat,
        notify.ALERT_RESOLVED_RENDER: render_resolved,
        notify.ALERT_ESCALATION_RENDER: render_escalation,
        notify.HANDOFF_REMINDER_RENDER: render_handoff_reminder,
        notify.CREDENTIAL_REMINDER_RENDER: render_credential_reminder,
        DIGEST_RENDER: render_digest,
    }


def register_alert_renderers(renderers: Registry, *, config: HandrailConfig) -> None:
    """Add the alert, reminder and digest renderers to the outbox worker's registry."""
    for name, render in alert_renderers(config).items():
        renderers.register(name, render)
