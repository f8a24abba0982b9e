"""Slack's inbound payloads (slash commands, block_actions, view_submission), built purely.

Shapes follow what Slack really sends, so bolt parses them and Handrail's handlers read the
same keys they will read in production. No I/O here: ``sandbox.driver`` signs and sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.models import JSON, Identity, User


def user_json(user: User, team_id: str) -> JSON:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": team_id}


def command_fields(
    ident: Identity,
    *,
    command: str,
    text: str,
    user: User,
    channel_id: str,
    channel_name: str,
    trigger_id: str,
    response_url: str,
    token: str,
) -> dict[str, str]:
    """A slash command: plain form fields, no ``payload`` wrapper."""
    return {
        "token": token,
        "team_id": ident.team_id,
        "team_domain": ident.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command if command.startswith("/") else f"/{command}",
        "text": text,
        "api_app_id": ident.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _options(element: JSON) -> list[JSON]:
    options: list[JSON] = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    return options


def _selected_option(element: JSON, value: object) -> JSON:
    for option in _options(element):
        if option.get("value") == value:
            return option
    return {"text": {"type": "plain_text", "text": str(value)}, "value": value}


def find_element(blocks: list[JSON], action_id: str) -> tuple[str | None, JSON] | None:
    """The (block_id, element) carrying ``action_id`` in a message or view."""
    for index, block in enumerate(blocks):
        candidates: list[Any] = list(block.get("elements", []))
        candidates += [block.get("accessory"), block.get("element")]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id") or f"block-{index}", element
    return None


def action_json(element: JSON, *, block_id: str, value: object, action_ts: str) -> JSON:
    """One entry of ``actions``: what a click on ``element`` reports."""
    kind = element.get("type", "button")
    action: JSON = {"type": kind, "action_id": element.get("action_id"), "block_id": block_id}
    if kind == "button":
        action["text"] = element.get("text")
        if value is not None:
            action["value"] = value
        if "style" in element:
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons", "external_select"):
        action["selected_option"] = _selected_option(element, value)
    elif value is not None:
        action["value"] = value
    action["action_ts"] = action_ts
    return action


def block_actions(
    ident: Identity,
    *,
    user: User,
    channel_id: str,
    channel_name: str,
    message_ts: str,
    message: JSON | None,
    actions: list[JSON],
    trigger_id: str,
    response_url: str,
    token: str,
) -> JSON:
    """A click on a message's interactive element (``message`` None: an ephemeral one)."""
    payload: JSON = {
        "type": "block_actions",
        "user": user_json(user, ident.team_id),
        "api_app_id": ident.app_id,
        "token": token,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": message is None,
        },
        "trigger_id": trigger_id,
        "team": {"id": ident.team_id, "domain": ident.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": actions,
    }
    if message is not None:
        payload["message"] = message
    return payload


def state_values(
    values: Mapping[str, Mapping[str, object]], blocks: list[JSON]
) -> dict[str, dict[str, JSON]]:
    """Slack's ``view.state.values`` from ``{block_id: {action_id: value}}``.

    A plain value becomes what its input element reports (``value`` for text inputs,
    ``selected_option`` for selects and radio buttons); a dict is passed through as given.
    """
    elements = {
        (block.get("block_id"), block["element"].get("action_id")): block["element"]
        for block in blocks
        if isinstance(block.get("element"), dict)
    }
    out: dict[str, dict[str, JSON]] = {}
    for block_id, actions in values.items():
        out[block_id] = {}
        for action_id, value in actions.items():
            if isinstance(value, dict):
                out[block_id][action_id] = dict(value)
                continue
            element = elements.get((block_id, action_id), {"type": "plain_text_input"})
            kind = element.get("type", "plain_text_input")
            if kind in ("static_select", "radio_buttons", "external_select"):
                option = None if value is None else _selected_option(element, value)
                out[block_id][action_id] = {"type": kind, "selected_option": option}
            else:
                out[block_id][action_id] = {"type": kind, "value": value}
    return out


def view_submission(
    ident: Identity, *, user: User, view: JSON, trigger_id: str, token: str
) -> JSON:
    """A modal's submit button: the full view, with the person's input in state.values."""
    return {
        "type": "view_submission",
        "team": {"id": ident.team_id, "domain": ident.team_domain},
        "user": user_json(user, ident.team_id),
        "api_app_id": ident.app_id,
        "token": token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(ident: Identity, *, user: User, view: JSON, token: str) -> JSON:
    """A modal dismissed with its close button (sent when ``notify_on_close``)."""
    return {
        "type": "view_closed",
        "team": {"id": ident.team_id, "domain": ident.team_domain},
        "user": user_json(user, ident.team_id),
        "api_app_id": ident.app_id,
        "token": token,
        "view": view,
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(ident: Identity, *, event: JSON, event_id: str, event_time: int) -> JSON:
    """The Events API envelope Slack POSTs as JSON (``type: event_callback``)."""
    return {
        "token": "legacy-verification-token",
        "team_id": ident.team_id,
        "api_app_id": ident.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ident.team_id,
                "user_id": ident.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_home_opened(*, user: str, channel: str, event_ts: str, view: JSON | None) -> JSON:
    """``app_home_opened`` for the Home tab; ``view`` once one was published to the person."""
    event: JSON = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": "home",
        "event_ts": event_ts,
    }
    if view is not None:
        event["view"] = view
    return event


def home_block_actions(
    ident: Identity,
    *,
    user: User,
    view: JSON,
    actions: list[JSON],
    trigger_id: str,
    token: str,
) -> JSON:
    """A click in a Home tab: the container is the view; no channel, message or
    response_url, as Slack sends it."""
    return {
        "type": "block_actions",
        "user": user_json(user, ident.team_id),
        "api_app_id": ident.app_id,
        "token": token,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": trigger_id,
        "team": {"id": ident.team_id, "domain": ident.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": actions,
    }
