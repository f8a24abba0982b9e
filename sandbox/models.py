"""The emulator's records: seeded workspace objects and what the bot did to them.

Plain dataclasses, so tests read ``emulator.messages("C0REVIEW")[-1].blocks`` directly and
the control API can serialise them with ``to_json()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]


@dataclass(frozen=True)
class Identity:
    """Who the bot is in the emulated workspace: what ``auth.test`` answers."""

    team_id: str = "T0TEAM"
    team: str = "Handrail Test"
    team_domain: str = "handrail-test"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    bot_name: str = "handrail"
    app_id: str = "A0HANDRAIL"

    @property
    def url(self) -> str:
        """The workspace URL, as in ``auth.test`` and permalinks."""
        return f"https://{self.team_domain}.slack.com/"


@dataclass
class User:
    """A person (or bot) in the workspace, as ``users.info`` describes them."""

    id: str
    name: str
    real_name: str | None = None
    tz: str = "Europe/London"
    is_bot: bool = False
    email: str | None = None
    deleted: bool = False
    """Deactivated: Slack keeps the ID, but no DM can be opened with them."""


@dataclass
class Channel:
    """A conversation; ``members=None`` means every seeded user plus the bot."""

    id: str
    name: str
    members: set[str] | None = None
    is_private: bool = False
    is_im: bool = False
    user: str | None = None
    """The other person of a DM (``is_im``)."""
    is_archived: bool = False


@dataclass
class Message:
    """A message as it stands now in a channel (updates applied in place)."""

    channel: str
    ts: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    user: str = ""
    bot_id: str | None = None
    thread_ts: str | None = None
    metadata: JSON | None = None
    attachments: list[JSON] | None = None
    edited: JSON | None = None
    files: list[JSON] | None = None
    """Files shared with the message (``files.completeUploadExternal``), as Slack lists them."""
    updates: int = 0
    """How many times ``chat.update`` (or a response_url replace) changed it."""

    @property
    def event_type(self) -> str | None:
        """The metadata event_type, or None without metadata."""
        return None if self.metadata is None else self.metadata.get("event_type")

    @property
    def event_payload(self) -> JSON | None:
        """The metadata event_payload, or None without metadata."""
        return None if self.metadata is None else self.metadata.get("event_payload")

    def to_slack(self, *, team_id: str, include_metadata: bool = True) -> JSON:
        """The message as the Web API returns it (history, postMessage, payloads)."""
        out: JSON = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.bot_id is not None:
            out["bot_id"] = self.bot_id
        out["team"] = team_id
        if self.blocks:
            out["blocks"] = self.blocks
        if self.attachments:
            out["attachments"] = self.attachments
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.edited is not None:
            out["edited"] = self.edited
        if self.files:
            out["files"] = self.files
            out["upload"] = True
        if include_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out

    def to_json(self) -> JSON:
        return dataclasses.asdict(self)


@dataclass
class SharedFile:
    """A file from ``files.getUploadURLExternal`` on: uploaded, then shared (or never)."""

    id: str
    name: str
    length: int
    upload_id: str
    issued_at: float
    alt_txt: str | None = None
    title: str | None = None
    data: bytes | None = None
    """The bytes POSTed to the upload URL; None until then."""
    completed: bool = False
    channels: list[str] = field(default_factory=list)

    def to_slack(self) -> JSON:
        """The file object as ``files.completeUploadExternal`` and history list it."""
        out: JSON = {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "image/png" if self.name.lower().endswith(".png") else "",
            "size": self.length,
            "channels": list(self.channels),
        }
        if self.alt_txt is not None:
            out["alt_txt"] = self.alt_txt
        return out

    def to_json(self) -> JSON:
        out = self.to_slack()
        out["completed"] = self.completed
        return out


@dataclass
class Ephemeral:
    """An ephemeral message: from ``chat.postEphemeral`` or an ephemeral response_url post."""

    channel: str
    user: str
    ts: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"

    def to_json(self) -> JSON:
        return dataclasses.asdict(self)


@dataclass
class View:
    """A modal opened by the bot; ``view`` is the full object Slack would return."""

    id: str
    user: str
    view: JSON
    opened_at: float
    closed: bool = False
    stack: list[str] = field(default_factory=list)
    """The view ids this one was pushed on top of (``views.push``)."""

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JSON]:
        blocks: list[JSON] = self.view.get("blocks", [])
        return blocks

    @property
    def hash(self) -> str:
        return str(self.view.get("hash", ""))

    def to_json(self) -> JSON:
        return dataclasses.asdict(self)


@dataclass
class Trigger:
    """A trigger_id the driver handed to the bot; single use, short-lived."""

    id: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """A response_url the driver handed to the bot (Slack: 5 uses within 30 minutes)."""

    id: str
    channel: str
    user: str
    message_ts: str | None
    issued_at: float
    uses: int = 0


@dataclass
class ResponsePost:
    """One POST the bot made to a response_url, with what the emulator did about it."""

    url_id: str
    body: JSON
    time: float
    channel: str
    user: str
    message_ts: str | None
    status: int
    effect: str
    """``ephemeral``, ``in_channel``, ``replaced``, ``deleted`` or ``rejected``."""

    def to_json(self) -> JSON:
        return dataclasses.asdict(self)


@dataclass
class Call:
    """One Web API call as the emulator received and answered it."""

    method: str
    body: JSON
    """Query and body arguments merged; ``blocks``/``metadata``/``view`` JSON decoded."""
    token: str | None
    time: float
    http_method: str = "POST"
    status: int = 200
    ok: bool | None = None
    error: str | None = None
    response: JSON | None = None
    fault: str | None = None
    """The injected fault that shaped the answer, if any."""

    def to_json(self) -> JSON:
        return dataclasses.asdict(self)


ChangeKind = Literal["message", "message_deleted", "ephemeral", "view", "home", "reset"]


@dataclass(frozen=True)
class Change:
    """Something the bot (or a seed) changed in the workspace, for whoever watches it.

    Names what changed, not its content: a watcher (the sandbox page) reads the current
    state, so a burst of changes to one message never shows a stale version of it.
    """

    kind: ChangeKind
    channel: str | None = None
    ts: str | None = None
    user: str | None = None
    """Whose it is: the person an ephemeral message or a modal is for."""
    view_id: str | None = None
