"""Publishing the Home tab, on ``app_home_opened`` and after a click made in it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.home import home_view
from handlers.context import HOME_NOTE_KEY
from handlers.home.reading import read_home

log = logging.getLogger("handrail.slack")

Listener = Callable[..., Awaitable[None]]

#: What to do when Slack refuses to publish a Home tab.
FIXES = {
    "not_enabled": "turn on the Home tab (App Home in the app's settings; manifest.yml "
    "sets features.app_home.home_tab_enabled) and reinstall the app",
}


def is_home_click(body: dict[str, Any]) -> bool:
    """Whether the request came from a Home tab (its container is a ``home`` view)."""
    view = body.get("view") or {}
    return isinstance(view, dict) and view.get("type") == "home"


async def publish_home(
    context: dict[str, Any], client: AsyncWebClient, *, user: str, note: str | None = None
) -> None:
    """Publish ``user``'s Home tab as it stands now."""
    home = await read_home(context, user=user, note=note)
    await client.views_publish(user_id=user, view=home_view(home))


async def handle_app_home_opened(
    event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
) -> None:
    """The person opened the Home tab: publish it fresh (the Messages tab needs nothing)."""
    if event.get("tab") != "home":
        return
    user = str(event.get("user") or "")
    try:
        await publish_home(context, client, user=user)
    except SlackApiError as error:  # nobody to answer: the tab just stays as it was
        code = error.response.get("error")
        fix = FIXES.get(str(code), "see Slack's error")
        log.warning("could not publish the Home tab of %s: %s; %s", user, code, fix)


def republishing(listener: Listener) -> Listener:
    """``listener`` for a button, then (for a click from a Home tab) the tab published
    again, with the refusal the listener could not say ephemerally, if any."""

    async def listen(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await listener(
            ack=ack, body=body, action=action, context=context, client=client, respond=respond
        )
        if not is_home_click(body):
            return
        user = str((body.get("user") or {}).get("id") or "")
        try:
            await publish_home(context, client, user=user, note=context.pop(HOME_NOTE_KEY, None))
        except Exception:  # the click itself was answered; a stale tab is refreshed on open
            log.exception("could not publish the Home tab of %s after a click", user)

    listen.__name__ = listen.__qualname__ = getattr(listener, "__name__", "listen")
    return listen


def register(app: AsyncApp) -> None:
    """Listen for ``app_home_opened``."""
    app.event("app_home_opened")(handle_app_home_opened)
