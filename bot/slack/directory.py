"""Usergroup members from Slack (``usergroups.users.list``), behind a short cache.

Roles may name a usergroup (``S…``) instead of people; membership is checked on every
click, so it is cached for a minute (by the injected clock) to keep clicks fast and within
Slack's rate limits, while someone removed from the group loses the right soon after.
Concurrent clicks that miss the cache share one lookup.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from workflows.clock import Clock

DEFAULT_TTL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class _Entry:
    members: frozenset[str]
    expires_at: datetime


class SlackMemberDirectory:
    """A ``workflows.roles.MemberDirectory`` over the Slack Web API."""

    def __init__(
        self, client: AsyncWebClient, *, clock: Clock, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        self.client = client
        self.clock = clock
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]:
        """The group's members; Slack errors (``no_such_subteam``, rate limits) propagate."""
        cached = self._fresh(usergroup_id)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(usergroup_id, asyncio.Lock())
        async with lock:
            cached = self._fresh(usergroup_id)
            if cached is not None:
                return cached
            response = await self.client.usergroups_users_list(usergroup=usergroup_id)
            members = frozenset(str(user) for user in response.get("users") or [])
            self._entries[usergroup_id] = _Entry(members, self.clock() + self.ttl)
            return members

    def forget(self, usergroup_id: str | None = None) -> None:
        """Drop one group (or all) from the cache, e.g. on a ``subteam_members_changed`` event."""
        if usergroup_id is None:
            self._entries.clear()
        else:
            self._entries.pop(usergroup_id, None)

    def _fresh(self, usergroup_id: str) -> frozenset[str] | None:
        entry = self._entries.get(usergroup_id)
        if entry is None or entry.expires_at <= self.clock():
            return None
        return entry.members
