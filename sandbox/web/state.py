"""What one person sees of the emulated workspace, as the page's JSON.

The page shows only what Slack would show that person: the channels, their own DMs with the
bot, every message (thread replies included), the ephemeral messages sent to them alone,
the modal open for them and the Home tab the bot published to them. The same functions
shape the full state (on load and after every reconnect) and each pushed change, so the
two never disagree.
"""

from __future__ import annotations

from typing import Any

from sandbox.emulator import SlackEmulator
from sandbox.models import Change, Channel, Ephemeral, Message, View
from sandbox.web.seed import Seed
from sandbox.workspace import SlackError

JSON = dict[str, Any]


def message_json(emulator: SlackEmulator, message: Message) -> JSON:
    """The message as the Web API returns it, plus its channel and how often it changed."""
    out = message.to_slack(team_id=emulator.workspace.identity.team_id, include_metadata=False)
    out["channel"] = message.channel
    out["updates"] = message.updates
    if message.files:
        out["files"] = [{**f, "url_private": f"/files/{f['id']}"} for f in message.files]
    return out


def ephemeral_json(ephemeral: Ephemeral) -> JSON:
    out: JSON = {
        "type": "message",
        "ephemeral": True,
        "channel": ephemeral.channel,
        "user": ephemeral.user,
        "ts": ephemeral.ts,
        "text": ephemeral.text,
        "blocks": ephemeral.blocks,
    }
    if ephemeral.thread_ts is not None:
        out["thread_ts"] = ephemeral.thread_ts
    return out


def open_modal(emulator: SlackEmulator, user: str) -> View | None:
    """The modal on top for ``user``: the newest one still open."""
    mine = [v for v in emulator.workspace.views.values() if v.user == user and not v.closed]
    return mine[-1] if mine else None


def modal_json(emulator: SlackEmulator, user: str) -> JSON | None:
    view = open_modal(emulator, user)
    return None if view is None else {"id": view.id, "view": view.view}


def _conversation_json(channel: Channel, seed: Seed) -> JSON:
    room = seed.rooms.get(channel.id)
    return {
        "id": channel.id,
        "name": channel.name,
        "is_im": channel.is_im,
        "purposes": room.purposes if room else [],
    }


def visible_conversations(emulator: SlackEmulator, user: str) -> list[Channel]:
    """Channels ``user`` is in, and their own DM with the bot (not other people's)."""
    ws = emulator.workspace
    seen = []
    for channel in ws.channels.values():
        if channel.is_im and channel.user != user:
            continue
        if user in ws.members(channel):
            seen.append(channel)
    return seen


def user_state(emulator: SlackEmulator, seed: Seed, user: str) -> JSON:
    """Everything the page draws for ``user``."""
    ws = emulator.workspace
    conversations = visible_conversations(emulator, user)
    return {
        "me": user,
        "bot": {"id": ws.identity.bot_user_id, "name": ws.identity.bot_name},
        "people": [person.to_json() for person in seed.people.values()],
        "users": {u.id: u.real_name or u.name for u in ws.users.values()},
        "channels": [_conversation_json(c, seed) for c in conversations],
        "channel_names": {c.id: c.name for c in ws.channels.values() if not c.is_im},
        "messages": {
            c.id: [message_json(emulator, m) for m in ws.history.get(c.id, [])]
            for c in conversations
        },
        "ephemerals": [ephemeral_json(e) for e in ws.ephemerals if e.user == user],
        "modal": modal_json(emulator, user),
        "home": ws.home_tabs.get(user),
    }


def change_event(emulator: SlackEmulator, change: Change, user: str) -> tuple[str, JSON] | None:
    """The (event name, data) ``user`` must receive for ``change``; None if not theirs."""
    ws = emulator.workspace
    if change.kind == "reset":
        return "reset", {}
    if change.kind in ("ephemeral", "view", "home") and change.user != user:
        return None
    if change.kind == "home":
        return "home", {"home": ws.home_tabs.get(user)}
    if change.kind == "view":
        return "modal", {"modal": modal_json(emulator, user)}
    if change.kind == "ephemeral":
        found = [e for e in ws.ephemerals if e.ts == change.ts and e.user == user]
        return ("ephemeral", ephemeral_json(found[-1])) if found else None
    channel = ws.channels.get(change.channel or "")
    if channel is None or channel not in visible_conversations(emulator, user):
        return None
    if change.kind == "message_deleted":
        return "message_deleted", {"channel": channel.id, "ts": change.ts}
    try:
        message = ws.find_message(channel.id, change.ts)
    except SlackError:  # deleted again before we looked; its deletion follows
        return None
    return "message", message_json(emulator, message)
