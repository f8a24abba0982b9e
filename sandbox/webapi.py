"""The Web API method table and Slack's argument decoding.

slack_sdk sends most writes as JSON and reads as query strings or forms; in a form, the
structured fields (``blocks``, ``metadata``, ``view``…) are JSON strings. Decoding them here
means every method, and every recorded call, sees the same dict whatever the transport.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from sandbox import webapi_chat, webapi_files, webapi_read, webapi_views
from sandbox.models import JSON
from sandbox.workspace import SlackError, Workspace

Method = Callable[[Workspace, JSON], JSON]

METHODS: dict[str, Method] = {
    "auth.test": webapi_read.auth_test,
    "chat.postMessage": webapi_chat.chat_post_message,
    "chat.update": webapi_chat.chat_update,
    "chat.delete": webapi_chat.chat_delete,
    "chat.postEphemeral": webapi_chat.chat_post_ephemeral,
    "chat.getPermalink": webapi_chat.chat_get_permalink,
    "conversations.history": webapi_read.conversations_history,
    "conversations.replies": webapi_read.conversations_replies,
    "conversations.info": webapi_read.conversations_info,
    "conversations.members": webapi_read.conversations_members,
    "conversations.open": webapi_read.conversations_open,
    "conversations.join": webapi_read.conversations_join,
    "users.info": webapi_read.users_info,
    "usergroups.users.list": webapi_read.usergroups_users_list,
    "files.getUploadURLExternal": webapi_files.get_upload_url_external,
    "files.completeUploadExternal": webapi_files.complete_upload_external,
    "views.open": webapi_views.views_open,
    "views.push": webapi_views.views_push,
    "views.update": webapi_views.views_update,
    "views.publish": webapi_views.views_publish,
}

_JSON_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "metadata": "invalid_metadata_format",
    "view": "invalid_arguments",
    "files": "invalid_arguments",
}


def decode_args(args: JSON) -> JSON:
    """Parse the JSON-string fields of a form/query call; JSON bodies pass through."""
    out = dict(args)
    for key, error in _JSON_FIELDS.items():
        value = out.get(key)
        if isinstance(value, str):
            try:
                out[key] = json.loads(value) if value else None
            except json.JSONDecodeError:
                raise SlackError(error) from None
    return out


async def read_args(request: web.Request) -> tuple[JSON, str | None]:
    """Query and body arguments (JSON or form) and the token, as Slack reads them."""
    args: JSON = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except json.JSONDecodeError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            raise SlackError("invalid_form_data")
    token = args.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
    return decode_args(args), (str(token) if token else None)
