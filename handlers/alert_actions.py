"""Clicks on alert messages: Acknowledge, Snooze, Resolve, Pause workflow.

Each click is acknowledged first, then checked: the clicker must be on call for the
alert's workflow or one of its admins, on every click. A refusal, a click on an alert
that was resolved meanwhile, or on one that no longer exists is answered privately
(``handlers.errors.answered``) and changes nothing. The message update and thread replies
go out through the outbox, written in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks import escape_mrkdwn, mention
from handlers.context import DEPS_KEY, RUN_ID_KEY, Deps, directory_of
from handlers.errors import answered
from handlers.ids import ActionId
from workflows.alerts import notify
from workflows.alerts.actions import (
    acknowledge_alert,
    ensure_open,
    resolve_alert,
    snooze_alert,
)
from workflows.alerts.views import get_alert_of
from workflows.config.brief import HandrailConfig, WorkflowConfig
from workflows.errors import Conflict
from workflows.pause.switch import pause_workflow
from workflows.roles import Role, ensure_role

#: Who may act on an alert: the people on call, and the workflow's admins.
RESPONDERS: tuple[Role, ...] = ("oncall", "admin")


class AlertDeps(Deps, Protocol):
    """``Deps`` plus the whole config, which the pause switch needs."""

    @property
    def config(self) -> HandrailConfig: ...


def alert_deps(context: Mapping[str, Any]) -> AlertDeps:
    deps: AlertDeps = context[DEPS_KEY]
    return deps


@dataclass(frozen=True, slots=True)
class AlertClick:
    """One click on an alert's message, checked: who, which alert, its workflow's brief."""

    user: str
    alert_id: str
    workflow: str
    policy: WorkflowConfig
    choice: str
    deps: AlertDeps


AlertWork = Callable[[AlertClick], Awaitable[None]]


def _value(action: Mapping[str, Any]) -> str:
    """A button's value, or a menu's selected option value."""
    selected = action.get("selected_option") or {}
    return str(selected.get("value") or action.get("value") or "")


async def check_responder(context: dict[str, Any], *, user: str, value: str) -> AlertClick:
    """Find the alert the click names and make sure ``user`` may act on it, or raise."""
    alert_id, _, choice = value.partition("|")
    deps = alert_deps(context)
    async with deps.readers() as db:
        alert = await get_alert_of(db, alert_id)
    context[RUN_ID_KEY] = alert.last_run_id
    policy = deps.workflow(alert.workflow)
    await ensure_role(
        user,
        workflow=alert.workflow,
        policy=policy,
        roles=RESPONDERS,
        directory=directory_of(context),
    )
    return AlertClick(user, alert_id, alert.workflow, policy, choice, deps)


def acked_first(work: AlertWork) -> Callable[..., Awaitable[None]]:
    """The bolt listener for ``work``: ack, check the clicker, work; errors answered privately."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        async with answered(body=body, context=context, respond=respond, client=client):
            click = await check_responder(context, user=body["user"]["id"], value=_value(action))
            await work(click)
            click.deps.wake_outbox()

    listener.__name__ = listener.__qualname__ = work.__name__
    return listener


async def handle_alert_acknowledge(click: AlertClick) -> None:
    """Acknowledge: stops the repeats and the escalation; the message says who."""
    async with click.deps.sessions() as db, db.begin():
        await acknowledge_alert(
            db,
            alert_id=click.alert_id,
            user=click.user,
            policy=click.policy,
            now=click.deps.clock(),
        )


async def handle_alert_snooze(click: AlertClick) -> None:
    """Snooze for the chosen 30 min, 1 h, 4 h or 24 h; never for ever."""
    async with click.deps.sessions() as db, db.begin():
        await snooze_alert(
            db,
            alert_id=click.alert_id,
            user=click.user,
            choice=click.choice,
            policy=click.policy,
            now=click.deps.clock(),
        )


async def handle_alert_resolve(click: AlertClick) -> None:
    """Resolve by hand; the thread says who."""
    async with click.deps.sessions() as db, db.begin():
        await resolve_alert(
            db,
            alert_id=click.alert_id,
            user=click.user,
            policy=click.policy,
            now=click.deps.clock(),
        )


async def handle_alert_pause_workflow(click: AlertClick) -> None:
    """Pause the alert's workflow with the pause switch of ``/pause`` (same state, audit
    and notices); the alert message then shows the pause banner instead of the button."""
    deps = click.deps
    now = deps.clock()
    async with deps.sessions() as db, db.begin():
        alert = await get_alert_of(db, click.alert_id)
        ensure_open(alert)
        outcome = await pause_workflow(
            db,
            config=deps.config,
            workflow=alert.workflow,
            actor=click.user,
            reason=f"from the alert “{alert.title[:200]}”",
            now=now,
        )
        if outcome.changed:
            await notify.refresh(
                db,
                alert_id=alert.id,
                workflow=alert.workflow,
                policy=click.policy,
                tag="paused-" + now.strftime("%Y%m%dT%H%M%S.%f"),
                now=now,
            )
    if not outcome.changed:
        by = mention(outcome.paused_by or "someone")
        raise Conflict(
            f"{escape_mrkdwn(click.workflow)} is already paused (by {by}); nothing was changed.",
            details=[{"loc": "workflow", "workflow": click.workflow}],
        )


def register(app: AsyncApp) -> None:
    """Listen for every alert button and the snooze menu."""
    app.action(ActionId.ALERT_ACKNOWLEDGE.value)(acked_first(handle_alert_acknowledge))
    app.action(ActionId.ALERT_SNOOZE.value)(acked_first(handle_alert_snooze))
    app.action(ActionId.ALERT_RESOLVE.value)(acked_first(handle_alert_resolve))
    app.action(ActionId.ALERT_PAUSE_WORKFLOW.value)(acked_first(handle_alert_pause_workflow))
