"""Read-only methods: identity, conversations, history, users and usergroups."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.models import JSON, Channel, Message
from sandbox.scopes import kind_prefix
from sandbox.webapi_chat import flag
from sandbox.workspace import SlackError, Workspace

HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999


def auth_test(ws: Workspace, args: JSON) -> JSON:
    ident = ws.identity
    return {
        "url": ident.url,
        "team": ident.team,
        "user": ident.bot_name,
        "team_id": ident.team_id,
        "user_id": ident.bot_user_id,
        "bot_id": ident.bot_id,
        "is_enterprise_install": False,
    }


def _channel_json(ws: Workspace, channel: Channel) -> JSON:
    out: JSON = {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_im and not channel.is_private,
        "is_group": channel.is_private,
        "is_im": channel.is_im,
        "is_private": channel.is_private or channel.is_im,
        "is_archived": channel.is_archived,
        "is_member": ws.identity.bot_user_id in ws.members(channel),
        "num_members": len(ws.members(channel)),
        "context_team_id": ws.identity.team_id,
    }
    if channel.is_im:
        out["user"] = channel.user
    return out


def conversations_info(ws: Workspace, args: JSON) -> JSON:
    channel = ws.channel(args.get("channel"))
    if channel.is_private and ws.identity.bot_user_id not in ws.members(channel):
        raise SlackError("channel_not_found")  # Slack hides private channels from outsiders
    ws.require_scopes([f"{kind_prefix(channel)}:read"])
    return {"channel": _channel_json(ws, channel)}


def conversations_join(ws: Workspace, args: JSON) -> JSON:
    """Join a public channel; joining one the bot is in already is a no-op, as in Slack."""
    return {"channel": _channel_json(ws, ws.join(args.get("channel")))}


def conversations_members(ws: Workspace, args: JSON) -> JSON:
    channel = ws.require_member(args.get("channel"), write=False, method="conversations.members")
    return {"members": sorted(ws.members(channel)), "response_metadata": {"next_cursor": ""}}


def conversations_open(ws: Workspace, args: JSON) -> JSON:
    users = args.get("users")
    ids = users.split(",") if isinstance(users, str) else users
    if not isinstance(ids, list) or not ids:
        raise SlackError("users_list_not_supplied")
    if len(ids) > 1:
        for uid in ids:
            ws.user(uid)
        raise SlackError("not_supported")  # group DMs are not emulated
    if ws.user(ids[0]).deleted:
        raise SlackError("user_disabled")
    already = "D" + str(ids[0])[1:] in ws.channels
    channel = ws.open_dm(str(ids[0]))
    return {"no_op": already, "already_open": already, "channel": _channel_json(ws, channel)}


def _ts(value: object, error: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise SlackError(error) from None


def _cursor_ts(cursor: object) -> Decimal | None:
    """Cursors are ``base64("next_ts:<ts>")``, like Slack's."""
    if not cursor:
        return None
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
        return Decimal(decoded.removeprefix("next_ts:"))
    except (binascii.Error, UnicodeDecodeError, InvalidOperation):
        raise SlackError("invalid_cursor") from None


def _limit(args: JSON) -> int:
    try:
        limit = int(args.get("limit") or HISTORY_DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    return max(1, min(limit, HISTORY_MAX_LIMIT))


def _page(ws: Workspace, messages: list[Message], args: JSON, *, newest_first: bool) -> JSON:
    """Filter by oldest/latest/inclusive, then one page by limit and cursor."""
    oldest = _ts(args.get("oldest"), "invalid_ts_oldest")
    latest = _ts(args.get("latest"), "invalid_ts_latest")
    after = _cursor_ts(args.get("cursor"))
    inclusive = flag(args, "inclusive")

    def keep(ts: Decimal) -> bool:
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        if latest is not None and (ts > latest or (ts == latest and not inclusive)):
            return False
        if after is None:
            return True
        return ts < after if newest_first else ts > after

    chosen = sorted(
        (m for m in messages if keep(Decimal(m.ts))),
        key=lambda m: Decimal(m.ts),
        reverse=newest_first,
    )
    limit = _limit(args)
    page, has_more = chosen[:limit], len(chosen) > limit
    include_metadata = flag(args, "include_all_metadata")
    team = ws.identity.team_id
    cursor = base64.b64encode(f"next_ts:{page[-1].ts}".encode()).decode() if has_more else ""
    return {
        "messages": [m.to_slack(team_id=team, include_metadata=include_metadata) for m in page],
        "has_more": has_more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_history(ws: Workspace, args: JSON) -> JSON:
    """Top-level messages, newest first (thread replies live in conversations.replies)."""
    channel = ws.require_member(args.get("channel"), write=False, method="conversations.history")
    top = [m for m in ws.history[channel.id] if m.thread_ts in (None, m.ts)]
    return _page(ws, top, args, newest_first=True)


def conversations_replies(ws: Workspace, args: JSON) -> JSON:
    """A thread, parent first then replies oldest first."""
    channel = ws.require_member(args.get("channel"), write=False, method="conversations.replies")
    parent = ws.find_message(channel.id, args.get("ts"))
    thread = [m for m in ws.history[channel.id] if parent.ts in (m.ts, m.thread_ts)]
    return _page(ws, thread, args, newest_first=False)


def users_info(ws: Workspace, args: JSON) -> JSON:
    user = ws.user(args.get("user"))
    try:
        zone = ZoneInfo(user.tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    now = dt.datetime.fromtimestamp(ws.clock(), tz=zone)
    offset = now.utcoffset() or dt.timedelta(0)
    real_name = user.real_name or user.name
    profile: JSON = {"real_name": real_name, "display_name": user.name}
    if user.email:
        profile["email"] = user.email
    return {
        "user": {
            "id": user.id,
            "team_id": ws.identity.team_id,
            "name": user.name,
            "real_name": real_name,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "tz": user.tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()),
            "profile": profile,
        }
    }


def usergroups_users_list(ws: Workspace, args: JSON) -> JSON:
    group = args.get("usergroup")
    if not isinstance(group, str) or group not in ws.usergroups:
        raise SlackError("no_such_subteam")
    # Deactivating someone takes them out of every usergroup.
    members = [
        uid for uid in ws.usergroups[group] if uid not in ws.users or not ws.users[uid].deleted
    ]
    return {"users": members}
