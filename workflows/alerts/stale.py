"""Stale handoffs: remind the reviewers, then escalate to on-call, before the case expires.

Both steps are shares of the workflow's ``review_timeout`` (half and three quarters by
default); at the timeout itself ``workflows.review.handoffs.expire_overdue`` expires the case,
which is never an approval. The reminder is a reply in the handoff's thread mentioning
the reviewers; the escalation is an alert (rule ``stale_handoff``, one per handoff), so it
gets the alert channel, the on-call mention and DMs, the buttons, and resolves itself
as soon as someone decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import alert_sources
from workflows.alerts.event_rules import by_settings, first_line
from workflows.alerts.findings import STALE_HANDOFF, Finding
from workflows.alerts.notify import HANDOFF_REMINDER_RENDER
from workflows.config.brief import HandrailConfig, WorkflowConfig
from workflows.delivery import outbox
from workflows.durations import format_duration
from workflows.review.handoff_keys import post_key

REMINDER_SUFFIX = ":reminder"
#: Handoffs read per workflow and tick; a backlog larger than this is reminded over ticks.
BATCH = 200


def remind_after(policy: WorkflowConfig) -> timedelta:
    return policy.review_timeout * (policy.alerts.stale_handoff.remind_percent / 100)


def escalate_after(policy: WorkflowConfig) -> timedelta:
    return policy.review_timeout * (policy.alerts.stale_handoff.escalate_percent / 100)


async def remind_stale_handoffs(db: AsyncSession, *, config: HandrailConfig, now: datetime) -> int:
    """Queue one reminder per handoff that has waited past its reminder time."""
    reminded = 0
    for workflow, policy in config.workflows.items():
        if not policy.reviewers:
            continue
        handoffs = await alert_sources.list_unreminded_handoffs(
            db,
            workflow=workflow,
            opened_before=now - remind_after(policy),
            key_suffix=REMINDER_SUFFIX,
            limit=BATCH,
        )
        for handoff in handoffs:
            assert handoff.channel is not None  # the query only returns posted handoffs
            await outbox.post_message(
                db,
                key=f"handoff:{handoff.id}{REMINDER_SUFFIX}",
                channel=handoff.channel,
                render=HANDOFF_REMINDER_RENDER,
                ref=handoff.id,
                thread_of=post_key(handoff.id),
                ordering_key=post_key(handoff.id),
                workflow=workflow,
                now=now,
            )
            reminded += 1
    return reminded


async def stale_handoffs(
    db: AsyncSession, *, policies: Mapping[str, WorkflowConfig], now: datetime
) -> dict[str, list[Finding]]:
    """Per workflow: one finding per handoff still pending past its escalation time."""
    found: dict[str, list[Finding]] = defaultdict(list)
    for after, names in by_settings(policies, escalate_after).items():
        handoffs = await alert_sources.list_pending_handoffs(
            db, workflows=names, opened_before=now - after, limit=BATCH * len(names)
        )
        for handoff in handoffs:
            timeout = policies[handoff.workflow].review_timeout
            found[handoff.workflow].append(
                Finding(
                    rule=STALE_HANDOFF,
                    fingerprint=handoff.id,
                    title=f"Handoff waiting for a decision: {first_line(handoff.summary, 120)}",
                    threshold=(
                        f"no decision within {format_duration(after)} "
                        f"(it expires unapproved after {format_duration(timeout)})"
                    ),
                    occurrences=(handoff.created_at,),
                    last_run_id=handoff.run_id,
                    sample=handoff.summary,
                    details={
                        "handoff_id": handoff.id,
                        "kind": handoff.kind,
                        "expires_at": handoff.expires_at.isoformat()
                        if handoff.expires_at
                        else None,
                    },
                    escalate_now=True,
                )
            )
    return found
