"""The emulated workspace: seeded people and channels, and the state the bot changes.

Kept apart from HTTP so the Web API methods (``sandbox.webapi``) are plain functions over
this state, and ``reset()`` can put everything back to the seed between tests.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sandbox import scopes as scope_rules
from sandbox.clock import Seconds
from sandbox.models import (
    Change,
    Channel,
    Ephemeral,
    Identity,
    Message,
    ResponseUrl,
    SharedFile,
    Trigger,
    User,
    View,
)

Watcher = Callable[[Change], None]

DEFAULT_TOKEN = "xoxb-test-token"  # noqa: S105 - a fake token the emulator accepts
TRIGGER_TTL = 3.0
"""Slack: a trigger_id must be used within 3 seconds."""
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5


def default_users() -> list[User]:
    return [
        User("U0ALICE", "alice", "Alice Adams", tz="Europe/London"),
        User("U0BOB", "bob", "Bob Brown", tz="America/New_York"),
        User("U0OWNER", "owner", "Olive Owner", tz="Europe/Berlin"),
    ]


def default_channels() -> list[Channel]:
    return [
        Channel("C0GENERAL", "general"),
        Channel("C0REVIEW", "review"),
        Channel("C0ONCALL", "oncall"),
        Channel("C0SECRET", "secret", members={"U0ALICE"}, is_private=True),
    ]


def default_usergroups() -> dict[str, list[str]]:
    return {"S0REVIEWERS": ["U0ALICE", "U0BOB"], "S0ONCALL": ["U0ALICE"]}


class SlackError(Exception):
    """A Slack error answer: ``{"ok": false, "error": code}`` plus optional details."""

    def __init__(self, error: str, messages: list[str] | None = None, **fields: str) -> None:
        super().__init__(error if not messages else f"{error}: {'; '.join(messages)}")
        self.error = error
        self.messages = messages or []
        self.fields = fields
        """Top-level fields Slack adds to the answer, e.g. ``needed`` and ``provided``."""


def _users(users: Mapping[str, str] | Iterable[User] | None) -> list[User]:
    if users is None:
        return default_users()
    if isinstance(users, Mapping):
        return [User(uid, name) for uid, name in users.items()]
    return list(users)


def _channels(channels: Mapping[str, str] | Iterable[Channel] | None) -> list[Channel]:
    if channels is None:
        return default_channels()
    if isinstance(channels, Mapping):
        return [Channel(cid, name) for cid, name in channels.items()]
    return list(channels)


class Workspace:
    """Everything the emulated Slack knows; methods raise SlackError as Slack answers."""

    def __init__(
        self,
        *,
        clock: Seconds,
        identity: Identity,
        tokens: Iterable[str],
        users: Mapping[str, str] | Iterable[User] | None,
        channels: Mapping[str, str] | Iterable[Channel] | None,
        usergroups: Mapping[str, Iterable[str]] | None,
        chat_write_public: bool,
        not_member_error: str,
        trigger_ttl: float,
        scopes: frozenset[str] | None = None,
    ) -> None:
        self.clock = clock
        self.scopes = scopes
        """The bot token's scopes; None grants every scope (a lenient emulator)."""
        self.home_tab_enabled = True
        """Whether the app has a Home tab (``features.app_home`` of its manifest)."""
        self.identity = identity
        self.tokens = set(tokens)
        bot = User(identity.bot_user_id, identity.bot_name, identity.bot_name, is_bot=True)
        self.users: dict[str, User] = {u.id: u for u in [*_users(users), bot]}
        self._seed_channels = {c.id: c for c in _channels(channels)}
        groups = default_usergroups() if usergroups is None else usergroups
        self.usergroups = {gid: list(members) for gid, members in groups.items()}
        self.chat_write_public = chat_write_public
        self.not_member_error = not_member_error
        self.trigger_ttl = trigger_ttl
        self.upload_base = ""
        """Where upload URLs point: the emulator's root URL, set when it starts."""
        self.watchers: list[Watcher] = []
        self.reset()

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher`` after every change; returns the function that stops it.

        Watchers run synchronously inside the Web API call that made the change, so they
        must only take note (e.g. put on a queue), never block or raise.
        """
        self.watchers.append(watcher)
        return lambda: self.watchers.remove(watcher) if watcher in self.watchers else None

    def notify(self, change: Change) -> None:
        for watcher in list(self.watchers):
            watcher(change)

    def reset(self) -> None:
        """Back to the seed: no messages, views, DMs, triggers or response_urls."""
        self.channels: dict[str, Channel] = copy.deepcopy(self._seed_channels)
        self.history: dict[str, list[Message]] = {cid: [] for cid in self.channels}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.home_tabs: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, SharedFile] = {}
        """Every file asked for by ``files.getUploadURLExternal``, by file ID."""
        self._last_micros = 0
        self._counter = itertools.count(1)
        if hasattr(self, "watchers"):
            self.notify(Change("reset"))

    # --- people and conversations -------------------------------------------------------

    def user(self, user_id: object) -> User:
        if not isinstance(user_id, str) or user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def members(self, channel: Channel) -> set[str]:
        if channel.members is not None:
            return set(channel.members)
        return set(self.users)

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def require_scopes(self, needed: Iterable[str]) -> None:
        """Slack's ``missing_scope`` answer, naming the scope needed and those granted."""
        for scope in sorted(needed):
            if not self.has_scope(scope):
                provided = ",".join(sorted(self.scopes or ()))
                raise SlackError("missing_scope", needed=scope, provided=provided)

    def channel(self, channel_id: object, *, user_means_dm: bool = False) -> Channel:
        """The conversation; a user id means the DM with them only where Slack allows it
        (``chat.postMessage``), elsewhere it is ``channel_not_found``."""
        if not isinstance(channel_id, str) or not channel_id:
            raise SlackError("channel_not_found")
        if user_means_dm and channel_id in self.users and channel_id not in self.channels:
            return self.open_dm(channel_id)
        if channel_id not in self.channels:
            raise SlackError("channel_not_found")
        return self.channels[channel_id]

    def require_member(
        self,
        channel_id: object,
        *,
        write: bool,
        method: str = "",
        user_means_dm: bool = False,
    ) -> Channel:
        """The channel if the bot may post (``write``) or read there, else Slack's error.

        Reads need the scope of the conversation's kind (``channels:history``…) and
        membership; writes to an archived channel are ``is_archived``; a public channel
        takes posts from a non-member only with ``chat:write.public``.
        """
        channel = self.channel(channel_id, user_means_dm=user_means_dm)
        scope = scope_rules.kind_scope(method, channel)
        if scope is not None:
            self.require_scopes([scope])
        if write and channel.is_archived:
            raise SlackError("is_archived")
        if self.identity.bot_user_id in self.members(channel):
            return channel
        if channel.is_private:
            raise SlackError(self.not_member_error)
        if write and self.chat_write_public and self.has_scope(scope_rules.WRITE_PUBLIC):
            return channel
        raise SlackError("not_in_channel")

    def join(self, channel_id: object) -> Channel:
        """``conversations.join``: the bot becomes a member of a public channel."""
        channel = self.channel(channel_id)
        if channel.is_im or channel.is_private:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise SlackError("is_archived")
        if channel.members is not None:
            channel.members.add(self.identity.bot_user_id)
        return channel

    def open_dm(self, user_id: str) -> Channel:
        """The DM between the bot and ``user_id`` (``D`` + the user id's tail), made once."""
        self.user(user_id)
        dm_id = "D" + user_id[1:]
        if dm_id not in self.channels:
            members = {self.identity.bot_user_id, user_id}
            self.channels[dm_id] = Channel(dm_id, dm_id, members=members, is_im=True, user=user_id)
            self.history[dm_id] = []
        return self.channels[dm_id]

    # --- messages ------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A Slack ts from the clock, strictly increasing across the workspace."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def add_message(self, message: Message) -> Message:
        self.history.setdefault(message.channel, []).append(message)
        self.notify(Change("message", channel=message.channel, ts=message.ts))
        return message

    def message_changed(self, message: Message) -> None:
        """Tell watchers a stored message was changed in place (an update or a replace)."""
        self.notify(Change("message", channel=message.channel, ts=message.ts))

    def add_ephemeral(self, ephemeral: Ephemeral) -> Ephemeral:
        self.ephemerals.append(ephemeral)
        self.notify(
            Change("ephemeral", channel=ephemeral.channel, ts=ephemeral.ts, user=ephemeral.user)
        )
        return ephemeral

    def view_changed(self, view: View) -> None:
        """Tell watchers a modal was opened, updated, pushed or closed."""
        self.notify(Change("view", user=view.user, view_id=view.id))

    def find_message(self, channel_id: str, ts: object) -> Message:
        for message in self.history.get(channel_id, []):
            if message.ts == ts:
                return message
        raise SlackError("message_not_found")

    def delete_message(self, channel_id: str, ts: str) -> None:
        message = self.find_message(channel_id, ts)
        self.history[channel_id].remove(message)
        self.notify(Change("message_deleted", channel=channel_id, ts=message.ts))

    # --- things the driver hands to the bot ----------------------------------------------

    def next_id(self, prefix: str) -> str:
        """A fresh id such as ``V00000001``: unique, readable in failures."""
        return f"{prefix}{next(self._counter):08d}"

    def issue_trigger(self, user: str) -> str:
        n = next(self._counter)
        digest = hashlib.sha256(f"trigger-{n}".encode()).hexdigest()[:32]
        trigger_id = f"{n}.{int(self.clock())}.{digest}"
        self.triggers[trigger_id] = Trigger(trigger_id, user, self.clock())
        return trigger_id

    def use_trigger(self, trigger_id: object) -> Trigger:
        """Spend a trigger_id: unknown, reused or older than the TTL are refused."""
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def issue_response_url(self, *, channel: str, user: str, message_ts: str | None) -> str:
        n = next(self._counter)
        url_id = f"{n}-{hashlib.sha256(f'response-{n}'.encode()).hexdigest()[:24]}"
        self.response_urls[url_id] = ResponseUrl(url_id, channel, user, message_ts, self.clock())
        return url_id

    def use_response_url(self, url_id: str) -> ResponseUrl:
        """Spend one use of a response_url (Slack: 5 uses, 30 minutes)."""
        entry = self.response_urls.get(url_id)
        if entry is None:
            raise SlackError("no_such_url")
        if self.clock() - entry.issued_at > RESPONSE_URL_TTL:
            raise SlackError("expired_url")
        if entry.uses >= RESPONSE_URL_USES:
            raise SlackError("used_url")
        entry.uses += 1
        return entry
