"""``views.*`` methods: modals opened with a trigger_id, updated by id or external_id.

Slack answers a view that breaks the Block Kit schema with ``invalid_arguments`` (not
``invalid_blocks`` as for messages) and the same ``[ERROR] … [json-pointer:/view/…]`` lines.
"""

from __future__ import annotations

import json

from sandbox.blockkit_limits import check_view
from sandbox.models import JSON, Change, View
from sandbox.workspace import SlackError, Workspace

VIEW_ERROR = "invalid_arguments"
MAX_STACK = 3
"""Slack: at most three views in a modal stack."""
HOME_VIEW_MAX_BYTES = 250_000
"""Slack: ``view_too_large`` for a published view over 250 KB."""


def _checked_view(args: JSON) -> JSON:
    view = args.get("view")
    if view is None:
        raise SlackError(VIEW_ERROR, ["[ERROR] missing required field: view [json-pointer:/view]"])
    errors = check_view(view)
    if errors:
        raise SlackError(VIEW_ERROR, errors)
    assert isinstance(view, dict)  # check_view rejected everything else
    return view


def _view_object(
    ws: Workspace, view_id: str, spec: JSON, *, root_view_id: str, previous_view_id: str | None
) -> JSON:
    """The full view object Slack returns and later sends back in view payloads."""
    return {
        "id": view_id,
        "team_id": ws.identity.team_id,
        "type": spec.get("type", "modal"),
        "title": spec.get("title"),
        "submit": spec.get("submit"),
        "close": spec.get("close"),
        "blocks": list(spec.get("blocks", [])),
        "private_metadata": spec.get("private_metadata", ""),
        "callback_id": spec.get("callback_id", ""),
        "external_id": spec.get("external_id", ""),
        "state": {"values": {}},
        "hash": f"{int(ws.clock())}.{ws.next_id('h')}",
        "clear_on_close": bool(spec.get("clear_on_close", False)),
        "notify_on_close": bool(spec.get("notify_on_close", False)),
        "root_view_id": root_view_id,
        "previous_view_id": previous_view_id,
        "app_id": ws.identity.app_id,
        "app_installed_team_id": ws.identity.team_id,
        "bot_id": ws.identity.bot_id,
    }


def _check_external_id(ws: Workspace, spec: JSON, *, except_id: str | None = None) -> None:
    external_id = spec.get("external_id")
    if not external_id:
        return
    for view in ws.views.values():
        if view.id != except_id and not view.closed and view.view["external_id"] == external_id:
            raise SlackError("duplicate_external_id")


def views_open(ws: Workspace, args: JSON) -> JSON:
    trigger = ws.use_trigger(args.get("trigger_id"))
    spec = _checked_view(args)
    _check_external_id(ws, spec)
    view_id = ws.next_id("V")
    obj = _view_object(ws, view_id, spec, root_view_id=view_id, previous_view_id=None)
    ws.views[view_id] = View(view_id, trigger.user, obj, ws.clock())
    ws.view_changed(ws.views[view_id])
    return {"view": obj}


def views_push(ws: Workspace, args: JSON) -> JSON:
    trigger = ws.use_trigger(args.get("trigger_id"))
    spec = _checked_view(args)
    _check_external_id(ws, spec)
    open_views = [v for v in ws.views.values() if v.user == trigger.user and not v.closed]
    if not open_views:
        raise SlackError("not_found")
    top = open_views[-1]
    if len(top.stack) + 1 >= MAX_STACK:
        raise SlackError("push_limit_reached")
    view_id = ws.next_id("V")
    root = str(top.view["root_view_id"])
    obj = _view_object(ws, view_id, spec, root_view_id=root, previous_view_id=top.id)
    ws.views[view_id] = View(view_id, trigger.user, obj, ws.clock(), stack=[*top.stack, top.id])
    ws.view_changed(ws.views[view_id])
    return {"view": obj}


def find_view(ws: Workspace, *, view_id: object, external_id: object) -> View:
    """The open view by id or external_id; closed or unknown views are ``not_found``."""
    for view in ws.views.values():
        if view.closed:
            continue
        if (view_id and view.id == view_id) or (
            external_id and view.view["external_id"] == external_id
        ):
            return view
    raise SlackError("not_found")


def views_update(ws: Workspace, args: JSON) -> JSON:
    view_id, external_id = args.get("view_id"), args.get("external_id")
    if not view_id and not external_id:
        raise SlackError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
    view = find_view(ws, view_id=view_id, external_id=external_id)
    if args.get("hash") and args["hash"] != view.hash:
        raise SlackError("hash_conflict")
    spec = _checked_view(args)
    _check_external_id(ws, spec, except_id=view.id)
    obj = _view_object(
        ws,
        view.id,
        spec,
        root_view_id=str(view.view["root_view_id"]),
        previous_view_id=view.view["previous_view_id"],
    )
    obj["state"] = view.view["state"]
    view.view = obj
    ws.view_changed(view)
    return {"view": obj}


def views_publish(ws: Workspace, args: JSON) -> JSON:
    """The Home tab of ``user_id``, as Slack's views.publish: ``not_enabled`` when the app
    has no Home tab, ``view_too_large`` over 250 KB, ``invalid_arguments`` for a view that
    is not ``home`` or breaks Block Kit (at most 100 blocks), ``hash_conflict`` for a stale
    ``hash``, ``user_not_found`` for an unknown person."""
    if not args.get("user_id"):
        raise SlackError(VIEW_ERROR, ["[ERROR] missing required field: user_id"])
    user = ws.user(args.get("user_id"))
    if len(json.dumps(args.get("view"), separators=(",", ":")).encode()) > HOME_VIEW_MAX_BYTES:
        raise SlackError("view_too_large")
    spec = _checked_view(args)
    if spec.get("type") != "home":
        raise SlackError(VIEW_ERROR, ["[ERROR] must be home [json-pointer:/view/type]"])
    if not ws.home_tab_enabled:
        raise SlackError("not_enabled")
    previous = ws.home_tabs.get(user.id)
    if previous and args.get("hash") and args["hash"] != previous["hash"]:
        raise SlackError("hash_conflict")
    view_id = previous["id"] if previous else ws.next_id("V")
    obj = _view_object(ws, view_id, spec, root_view_id=view_id, previous_view_id=None)
    ws.home_tabs[user.id] = obj
    ws.notify(Change(kind="home", user=user.id, view_id=view_id))
    return {"view": obj}


def after_submission(ws: Workspace, view: View, answer: object) -> None:
    """What the bot's answer to a view_submission does to the modal, as in Slack.

    An empty ack closes the view; ``errors`` keeps it open; ``update`` replaces it; ``push``
    stacks a new one; ``clear`` closes the whole stack.
    """
    action = answer.get("response_action") if isinstance(answer, dict) else None
    if action == "errors":
        return
    if action in ("update", "push") and isinstance(answer, dict):
        spec = answer.get("view")
        if not isinstance(spec, dict) or check_view(spec):
            return  # Slack shows the person an error and leaves the modal as it was
        if action == "update":
            obj = _view_object(
                ws,
                view.id,
                spec,
                root_view_id=str(view.view["root_view_id"]),
                previous_view_id=view.view["previous_view_id"],
            )
            view.view = obj
            ws.view_changed(view)
            return
        view_id = ws.next_id("V")
        root = str(view.view["root_view_id"])
        obj = _view_object(ws, view_id, spec, root_view_id=root, previous_view_id=view.id)
        ws.views[view_id] = View(view_id, view.user, obj, ws.clock(), stack=[*view.stack, view.id])
        ws.view_changed(ws.views[view_id])
        return
    close_view(ws, view)
    if action == "clear":
        for other_id in view.stack:
            close_view(ws, ws.views[other_id])


def close_view(ws: Workspace, view: View) -> None:
    """Mark a modal closed (submitted, cleared or dismissed) and tell the watchers."""
    view.closed = True
    ws.view_changed(view)
