"""``chat.*`` methods and response_url posts: everything that writes messages.

Each method takes the workspace and the decoded arguments and returns the fields of a
successful answer (``ok`` is added by the caller), or raises SlackError with Slack's code.
"""

from __future__ import annotations

from typing import Any

from sandbox.blockkit_limits import MESSAGE_TEXT_MAX, check_blocks
from sandbox.models import JSON, Ephemeral, Message, ResponseUrl
from sandbox.workspace import SlackError, Workspace


def flag(args: JSON, key: str) -> bool:
    """Slack's booleans: ``true``/``1`` in forms and query strings, true in JSON."""
    value = args.get(key)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def text_arg(args: JSON) -> str | None:
    value = args.get("text")
    return None if value is None else str(value)


def check_content(
    text: str | None, blocks: object, attachments: object, *, required: bool = True
) -> None:
    """Slack's content rules for a message: ``no_text``, ``msg_too_long``, Block Kit limits."""
    if required and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text is not None and len(text) > MESSAGE_TEXT_MAX:
        raise SlackError("msg_too_long")
    if blocks is not None:
        errors = check_blocks(blocks)
        if errors:
            raise SlackError("invalid_blocks", errors)
    if attachments is not None and not isinstance(attachments, list):
        raise SlackError("invalid_attachments")


def metadata_arg(args: JSON) -> JSON | None:
    """Message metadata ``{event_type, event_payload}``, or ``invalid_metadata_format``."""
    value = args.get("metadata")
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not value["event_type"]
        or not isinstance(value.get("event_payload", {}), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": value.get("event_payload", {})}


def _message_json(ws: Workspace, message: Message) -> JSON:
    out = message.to_slack(team_id=ws.identity.team_id)
    out["app_id"] = ws.identity.app_id
    return out


def post_message(
    ws: Workspace,
    channel: str,
    *,
    text: str | None,
    blocks: Any,
    attachments: Any = None,
    thread_ts: str | None = None,
    metadata: JSON | None = None,
) -> Message:
    """Store a new bot message (content already checked)."""
    return ws.add_message(
        Message(
            channel=channel,
            ts=ws.next_ts(),
            text=text or "",
            blocks=list(blocks or []),
            user=ws.identity.bot_user_id,
            bot_id=ws.identity.bot_id,
            thread_ts=thread_ts,
            metadata=metadata,
            attachments=attachments,
        )
    )


def chat_post_message(ws: Workspace, args: JSON) -> JSON:
    """Slack takes a user ID here and posts in the DM with that person (only here)."""
    channel = ws.require_member(args.get("channel"), write=True, user_means_dm=True)
    text, blocks, attachments = text_arg(args), args.get("blocks"), args.get("attachments")
    check_content(text, blocks, attachments)
    thread_ts = args.get("thread_ts")
    message = post_message(
        ws,
        channel.id,
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=str(thread_ts) if thread_ts else None,
        metadata=metadata_arg(args),
    )
    return {"channel": channel.id, "ts": message.ts, "message": _message_json(ws, message)}


def _apply_update(
    ws: Workspace, message: Message, *, text: str | None, blocks: Any, attachments: Any
) -> None:
    """Replace what was given; Slack keeps the fields an update leaves out."""
    if text is not None:
        message.text = text
    if blocks is not None:
        message.blocks = list(blocks)
    if attachments is not None:
        message.attachments = attachments
    message.edited = {"user": ws.identity.bot_user_id, "ts": ws.next_ts()}
    message.updates += 1
    ws.message_changed(message)


def chat_update(ws: Workspace, args: JSON) -> JSON:
    channel = ws.require_member(args.get("channel"), write=True)
    message = ws.find_message(channel.id, args.get("ts"))
    if message.user != ws.identity.bot_user_id:
        raise SlackError("cant_update_message")
    text, blocks, attachments = text_arg(args), args.get("blocks"), args.get("attachments")
    check_content(text, blocks, attachments)
    metadata = metadata_arg(args)
    if metadata is not None:
        message.metadata = metadata
    _apply_update(ws, message, text=text, blocks=blocks, attachments=attachments)
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": _message_json(ws, message),
    }


def chat_delete(ws: Workspace, args: JSON) -> JSON:
    channel = ws.require_member(args.get("channel"), write=True)
    message = ws.find_message(channel.id, args.get("ts"))
    if message.user != ws.identity.bot_user_id:
        raise SlackError("cant_delete_message")
    ws.delete_message(channel.id, message.ts)
    return {"channel": channel.id, "ts": message.ts}


def chat_post_ephemeral(ws: Workspace, args: JSON) -> JSON:
    channel = ws.require_member(args.get("channel"), write=True)
    user = ws.user(args.get("user"))
    if user.id not in ws.members(channel):
        raise SlackError("user_not_in_channel")
    text, blocks = text_arg(args), args.get("blocks")
    check_content(text, blocks, args.get("attachments"))
    thread_ts = args.get("thread_ts")
    ephemeral = Ephemeral(
        channel=channel.id,
        user=user.id,
        ts=ws.next_ts(),
        text=text or "",
        blocks=list(blocks or []),
        thread_ts=str(thread_ts) if thread_ts else None,
    )
    ws.add_ephemeral(ephemeral)
    return {"message_ts": ephemeral.ts}


def chat_get_permalink(ws: Workspace, args: JSON) -> JSON:
    channel = ws.channel(args.get("channel"))
    message = ws.find_message(channel.id, args.get("message_ts"))
    link = f"{ws.identity.url}archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def apply_response(ws: Workspace, entry: ResponseUrl, body: JSON) -> str:
    """Do what a response_url post asks; returns the effect's name for the record."""
    if flag(body, "delete_original"):
        if entry.message_ts is None:
            raise SlackError("message_not_found")
        ws.delete_message(entry.channel, entry.message_ts)
        return "deleted"
    text, blocks = text_arg(body), body.get("blocks")
    check_content(text, blocks, body.get("attachments"))
    if flag(body, "replace_original"):
        if entry.message_ts is None:
            raise SlackError("message_not_found")
        message = ws.find_message(entry.channel, entry.message_ts)
        # Unlike chat.update, a replacement is whole: what it leaves out is gone.
        message.attachments = None
        _apply_update(
            ws, message, text=text or "", blocks=blocks or [], attachments=body.get("attachments")
        )
        return "replaced"
    thread_ts = body.get("thread_ts")
    if body.get("response_type") == "in_channel":
        post_message(
            ws,
            entry.channel,
            text=text,
            blocks=blocks,
            attachments=body.get("attachments"),
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        return "in_channel"
    ws.add_ephemeral(
        Ephemeral(
            channel=entry.channel,
            user=entry.user,
            ts=ws.next_ts(),
            text=text or "",
            blocks=list(blocks or []),
            thread_ts=str(thread_ts) if thread_ts else None,
            source="response_url",
        )
    )
    return "ephemeral"
