"""The bot scopes Handrail needs, which the doctor compares with those Slack granted.

The set is derived, not chosen: ``tests/test_manifest_scopes.py`` works it out from the
Web API methods the code calls and the conversation kinds it writes to, and keeps both
``manifest.yml`` and this constant equal to it. It lives in the server because the
derivation needs the emulator's method table, which does not ship with the server.
"""

from __future__ import annotations

REQUIRED_SCOPES: frozenset[str] = frozenset(
    {
        "chat:write",
        "chat:write.public",
        "channels:join",
        "channels:history",
        "channels:read",
        "groups:history",
        "groups:read",
        "im:history",
        "im:read",
        "im:write",
        "commands",
        "usergroups:read",
        "files:write",
    }
)

#: Posting to a public channel the bot is not a member of.
WRITE_PUBLIC = "chat:write.public"
#: Joining a public channel, to read Handrail's own posts back after a lost answer.
JOIN = "channels:join"
