"""The shape of a signed Slack request, checked before bolt reads it.

A valid signature says who sent the bytes, not that they are what Slack sends: a replayed
or hand-made body (``payload=``, ``payload=null``, a JSON list, a form field whose bytes
are not UTF-8, a click with no action, a submission with no view) would reach bolt's parser or a
listener and fail there with a traceback and a 500. Each is a client error: it is
answered 400 with what was wrong, and logged as one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

FORM = "application/x-www-form-urlencoded"


class MalformedRequest(ValueError):
    """A signed Slack request in a shape Slack never sends; the message says which."""


def check_shape(text: str, content_type: str) -> None:
    """Raise :class:`MalformedRequest` unless ``text`` is a body bolt can route safely."""
    if content_type != FORM:
        _json_object(text, "the body")
        return
    try:
        fields = parse_qs(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise MalformedRequest("a form field is not UTF-8 once decoded") from None
    if "payload" in fields:
        _check_payload(_json_object(fields["payload"][0], "payload"))
    elif "command" in fields and not fields["command"][0].startswith("/"):
        raise MalformedRequest("command must start with '/'")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedRequest(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequest(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _check_payload(payload: dict[str, Any]) -> None:
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise MalformedRequest("payload.type must be a string")
    check = _CHECKS.get(kind)
    if check is not None:
        check(payload)


def _user(payload: dict[str, Any]) -> None:
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise MalformedRequest("payload.user.id must be a string")


def _block_actions(payload: dict[str, Any]) -> None:
    _user(payload)
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise MalformedRequest("payload.actions must be a non-empty list")
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            raise MalformedRequest(f"payload.actions[{index}].action_id must be a string")


def _view(payload: dict[str, Any], *, with_state: bool) -> None:
    _user(payload)
    view = payload.get("view")
    if not isinstance(view, dict):
        raise MalformedRequest("payload.view must be an object")
    if not isinstance(view.get("callback_id"), str):
        raise MalformedRequest("payload.view.callback_id must be a string")
    state = view.get("state")
    if with_state and not (isinstance(state, dict) and isinstance(state.get("values"), dict)):
        raise MalformedRequest("payload.view.state.values must be an object")


_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "block_actions": _block_actions,
    "view_submission": lambda payload: _view(payload, with_state=True),
    "view_closed": lambda payload: _view(payload, with_state=False),
}
