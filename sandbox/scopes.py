"""The bot scopes each emulated Web API method needs, as Slack's method pages list them.

An emulator is strict by default: its token has the scopes the app was installed with
(``oauth_config.scopes.bot`` of the nearest ``manifest.yml``), and a call without the one it
needs answers ``missing_scope`` with ``needed`` and ``provided``, as Slack does. Methods
whose scope depends on the conversation (history, replies, info) are checked by kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from sandbox.models import Channel

#: Scopes a method needs whatever the conversation; an empty set needs none.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.getPermalink": frozenset(),
    "conversations.join": frozenset({"channels:join"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "conversations.open": frozenset({"im:write"}),
    "users.info": frozenset({"users:read"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "views.open": frozenset(),
    "views.push": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
}

#: Methods whose scope is ``<kind>:<suffix>`` for the conversation they name.
KIND_SCOPED: dict[str, str] = {
    "conversations.history": "history",
    "conversations.replies": "history",
    "conversations.info": "read",
    "conversations.members": "read",
}

#: Posting to a public channel the bot is not a member of.
WRITE_PUBLIC = "chat:write.public"


def kind_prefix(channel: Channel) -> str:
    """Slack's scope family for a conversation: ``channels``, ``groups`` or ``im``."""
    if channel.is_im:
        return "im"
    return "groups" if channel.is_private else "channels"


def kind_scope(method: str, channel: Channel) -> str | None:
    """The scope ``method`` needs in ``channel``; None when it needs no per-kind scope."""
    suffix = KIND_SCOPED.get(method)
    return None if suffix is None else f"{kind_prefix(channel)}:{suffix}"


def find_manifest(start: Path | None = None) -> Path:
    """The nearest ``manifest.yml`` from ``start`` (the working directory) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "manifest.yml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no manifest.yml in {here} or above: pass scopes= to the emulator, or run from the "
        "repository"
    )


def manifest_home_tab(path: Path | None = None) -> bool:
    """Whether the manifest enables the app's Home tab (``features.app_home``)."""
    data = yaml.safe_load((path or find_manifest()).read_text(encoding="utf-8"))
    home = ((data or {}).get("features") or {}).get("app_home") or {}
    return bool(home.get("home_tab_enabled"))


def manifest_scopes(path: Path | None = None) -> frozenset[str]:
    """The bot scopes a Slack app manifest installs (``oauth_config.scopes.bot``)."""
    data = yaml.safe_load((path or find_manifest()).read_text(encoding="utf-8"))
    bot: Iterable[str] = ((data or {}).get("oauth_config") or {}).get("scopes", {}).get("bot", [])
    return frozenset(str(scope) for scope in bot)
