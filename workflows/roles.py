"""Who may do what: reviewers decide, admins resume, on-call acknowledge.

A role lists Slack user IDs and usergroup IDs (``S…``); usergroup members come from a
``MemberDirectory`` (Slack's ``usergroups.users.list`` behind a short cache in ``bot/``),
so this module stays free of Slack I/O and is checked on every click and command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

from workflows.config.brief import WorkflowConfig
from workflows.errors import Forbidden

Role = Literal["reviewer", "admin", "oncall"]


class MemberDirectory(Protocol):
    async def usergroup_members(self, usergroup_id: str) -> frozenset[str]: ...


def role_ids(policy: WorkflowConfig, role: Role) -> list[str]:
    return {"reviewer": policy.reviewers, "admin": policy.admins, "oncall": policy.oncall}[role]


async def is_listed(user: str, ids: Iterable[str], directory: MemberDirectory) -> bool:
    """Whether ``user`` is one of ``ids`` or a member of a usergroup among them."""
    ids = list(ids)
    if user in ids:
        return True
    for group in (entry for entry in ids if entry.startswith("S")):
        if user in await directory.usergroup_members(group):
            return True
    return False


async def has_any_role(
    user: str, *, policy: WorkflowConfig, roles: Iterable[Role], directory: MemberDirectory
) -> bool:
    for role in roles:
        if await is_listed(user, role_ids(policy, role), directory):
            return True
    return False


async def ensure_role(
    user: str,
    *,
    workflow: str,
    policy: WorkflowConfig,
    roles: tuple[Role, ...],
    directory: MemberDirectory,
) -> None:
    """Raise ``Forbidden`` unless ``user`` holds one of ``roles`` in ``workflow``."""
    if await has_any_role(user, policy=policy, roles=roles, directory=directory):
        return
    names = " or ".join(f"{role}" for role in roles)
    raise Forbidden(
        f"Permission denied: <@{user}> is not {'an' if names[0] in 'aeiou' else 'a'} "
        f"{names} of {workflow}; ask an admin of {workflow} to add you in workflows.yml",
        details=[{"loc": "user", "user": user, "roles": list(roles)}],
    )
