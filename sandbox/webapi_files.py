"""Slack's file upload: ``files.getUploadURLExternal``, a POST of the bytes to the URL it
gave, then ``files.completeUploadExternal``, which shares the file (or keeps it private).

Strict as Slack's method pages: ``filename`` and ``length`` are required (``length`` 0 is
``missing_argument``), ``alt_txt`` is at most 1,000 characters, ``files`` must name files
whose bytes arrived, and sharing needs the bot in the conversation (``chat:write.public``
does not reach files). An upload URL takes one POST of exactly ``length`` bytes before it
expires (``UPLOAD_URL_TTL``, the emulator's choice: Slack documents no figure), and a file
whose upload is never completed is never shared: no message, nobody sees it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.blockkit_limits import MESSAGE_TEXT_MAX
from sandbox.models import JSON, Message, SharedFile
from sandbox.workspace import SlackError, Workspace

ALT_TXT_MAX = 1000
UPLOAD_URL_TTL = 10 * 60.0


def _required(args: JSON, key: str) -> Any:
    value = args.get(key)
    if value is None or value == "":
        raise SlackError("invalid_arguments", [f"[ERROR] missing required field: {key}"])
    return value


def get_upload_url_external(ws: Workspace, args: JSON) -> JSON:
    name = str(_required(args, "filename"))
    raw = _required(args, "length")
    try:
        length = int(raw)
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments", ["[ERROR] length must be an integer"]) from None
    if length == 0:
        raise SlackError("missing_argument")
    if length < 0:
        raise SlackError("invalid_arguments", ["[ERROR] length must be positive"])
    alt = args.get("alt_txt")
    if alt is not None and len(str(alt)) > ALT_TXT_MAX:
        raise SlackError("alt_txt_too_large")
    file_id = ws.next_id("F")
    upload_id = hashlib.sha256(f"upload-{file_id}".encode()).hexdigest()[:24]
    ws.files[file_id] = SharedFile(
        id=file_id,
        name=name,
        length=length,
        upload_id=upload_id,
        issued_at=ws.clock(),
        alt_txt=None if alt is None else str(alt),
    )
    return {"upload_url": f"{ws.upload_base}/upload/{upload_id}", "file_id": file_id}


def receive_upload(ws: Workspace, upload_id: str, data: bytes) -> tuple[int, str]:
    """The POST to an upload URL: ``(HTTP status, text body)`` as Slack's upload host
    answers; 404 for an unknown, used or expired URL, 400 for the wrong number of bytes."""
    found = next((f for f in ws.files.values() if f.upload_id == upload_id), None)
    if found is None or found.data is not None:
        return 404, "upload URL unknown or already used"
    if ws.clock() - found.issued_at > UPLOAD_URL_TTL:
        return 404, "upload URL expired"
    if len(data) != found.length:
        return 400, f"expected {found.length} bytes, got {len(data)}"
    found.data = data
    return 200, f"OK - {len(data)}"


def _files_arg(ws: Workspace, args: JSON) -> list[tuple[SharedFile, str | None]]:
    value = _required(args, "files")
    if not isinstance(value, list) or not value:
        raise SlackError("invalid_arguments", ["[ERROR] files must be a non-empty array"])
    picked = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SlackError("invalid_arguments", ["[ERROR] each file needs an id"])
        found = ws.files.get(item["id"])
        if found is None or found.data is None or found.completed:
            raise SlackError("file_not_found")
        title = item.get("title")
        picked.append((found, None if title is None else str(title)))
    return picked


def complete_upload_external(ws: Workspace, args: JSON) -> JSON:
    picked = _files_arg(ws, args)
    channel_id = args.get("channel_id")
    thread_ts = args.get("thread_ts")
    comment = args.get("initial_comment")
    if comment is not None and len(str(comment)) > MESSAGE_TEXT_MAX:
        raise SlackError("msg_too_long")
    if thread_ts is not None and not channel_id:
        raise SlackError("invalid_arguments", ["[ERROR] thread_ts needs channel_id"])
    channel = None
    if channel_id:
        channel = ws.channel(channel_id)
        if channel.is_archived:
            raise SlackError("is_archived")
        if ws.identity.bot_user_id not in ws.members(channel):
            raise SlackError("not_in_channel")
        if thread_ts is not None:
            ws.find_message(channel.id, thread_ts)  # message_not_found otherwise
    for found, title in picked:
        found.completed = True
        found.title = title or found.name
        if channel is not None:
            found.channels.append(channel.id)
    shared = [found.to_slack() for found, _ in picked]
    if channel is not None:
        ws.add_message(
            Message(
                channel=channel.id,
                ts=ws.next_ts(),
                text="" if comment is None else str(comment),
                user=ws.identity.bot_user_id,
                bot_id=ws.identity.bot_id,
                thread_ts=None if thread_ts is None else str(thread_ts),
                files=shared,
            )
        )
    return {"files": shared}
