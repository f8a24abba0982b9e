"""The Slack half of the doctor: the token, its scopes, the channels and the people.

Slack is asked the way Handrail asks it at work: ``auth.test`` for the token (its answer's
``X-OAuth-Scopes`` header names the scopes granted), ``conversations.info`` for each
configured channel, and for people the calls Handrail itself makes on their behalf:
``conversations.open`` (how it reaches a person, so no ``users:read`` is needed just to
look) and ``usergroups.users.list``. A Slack that does not answer is one finding, and the
checks that needed it are not run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.doctor.findings import Finding, ok, problem, warning
from bot.doctor.scopes import JOIN, REQUIRED_SCOPES, WRITE_PUBLIC
from bot.settings import Settings
from workflows.config.brief import HandrailConfig

#: How long one Slack call may take before Slack counts as not answering.
CALL_TIMEOUT_SECONDS = 5.0
#: Calls in flight at once: enough for a few dozen channels, well inside Slack's tiers.
PARALLEL_CALLS = 4
INVITE = "invite the bot in Slack (/invite @Handrail in the channel)"
REINSTALL = (
    "add it under oauth_config.scopes.bot (manifest.yml) or on the app's OAuth & Permissions "
    "page, then reinstall the app to the workspace"
)


class SlackUnreachable(Exception):
    """Slack did not answer (or answered with a server error or a rate limit)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.detail)
        self.finding = finding


@dataclass(frozen=True, slots=True)
class Refusal:
    """Slack answered ``ok: false``: its error code and, for ``missing_scope``, the scope."""

    error: str
    needed: str = ""


Answer = AsyncSlackResponse | Refusal


def slack_client(settings: Settings) -> AsyncWebClient:
    """A Web API client on ``SLACK_API_URL``, short timeout and no retries: a check waits
    for nothing, it reports."""
    token = settings.slack_bot_token
    return AsyncWebClient(
        token=token.get_secret_value() if token is not None else None,
        base_url=settings.slack_api_url,
        timeout=int(CALL_TIMEOUT_SECONDS),
        retry_handlers=[],
    )


async def ask(settings: Settings, method: Callable[..., Awaitable[Any]], **args: Any) -> Answer:
    """Call ``method``; a refusal is returned, a Slack that cannot answer is raised."""
    where = settings.slack_api_url
    try:
        async with asyncio.timeout(CALL_TIMEOUT_SECONDS + 1):
            response: AsyncSlackResponse = await method(**args)
            return response
    except SlackApiError as exc:
        answer = exc.response
        if answer.status_code == 429:
            retry = answer.headers.get("Retry-After") or answer.headers.get("retry-after") or "?"
            raise SlackUnreachable(
                problem(
                    "slack",
                    f"Slack is rate limiting these calls (Retry-After {retry} s); the checks "
                    "that needed them were not made",
                    "run handrail doctor again in a minute",
                )
            ) from None
        if answer.status_code >= 500 or not isinstance(answer.data, dict):
            raise _unreachable(f"Slack at {where} answered HTTP {answer.status_code}") from None
        data: Mapping[str, Any] = answer.data
        return Refusal(str(data.get("error") or "unknown_error"), str(data.get("needed") or ""))
    except TimeoutError:
        raise _unreachable(
            f"Slack at {where} did not answer within {CALL_TIMEOUT_SECONDS:g} s"
        ) from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise _unreachable(f"Slack at {where} cannot be reached ({_first_line(exc)})") from None


def _unreachable(detail: str) -> SlackUnreachable:
    return SlackUnreachable(
        problem(
            "slack",
            detail,
            "check this host's network and proxy, or SLACK_API_URL (Slack's status page says "
            "whether Slack itself is down)",
        )
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the token is, and the scopes Slack says it has (None when it did not say)."""

    bot: str
    team: str
    scopes: frozenset[str] | None


async def check_token(
    settings: Settings, client: AsyncWebClient
) -> tuple[Finding, Identity | None]:
    """``auth.test``: the token works, for which bot in which workspace."""
    answer = await ask(settings, client.auth_test)
    if isinstance(answer, Refusal):
        return (
            problem(
                "bot token",
                f"Slack refused SLACK_BOT_TOKEN ({answer.error})",
                "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions "
                "page into SLACK_BOT_TOKEN; reinstall the app if it was revoked",
            ),
            None,
        )
    who = Identity(
        bot=str(answer.get("user") or answer.get("user_id") or "?"),
        team=str(answer.get("team") or answer.get("team_id") or "?"),
        scopes=granted_scopes(answer.headers),
    )
    return ok("bot token", f"works, as @{who.bot} in {who.team}"), who


def granted_scopes(headers: Mapping[str, Any]) -> frozenset[str] | None:
    """The ``X-OAuth-Scopes`` header Slack puts on its answers, as a set."""
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes":
            return frozenset(s.strip() for s in str(value).split(",") if s.strip())
    return None


def check_scopes(granted: frozenset[str] | None) -> Finding:
    """The scopes granted cover ``REQUIRED_SCOPES``; extra ones are not Handrail's concern."""
    if granted is None:
        return warning(
            "scopes",
            "Slack did not say which scopes the token has (no X-OAuth-Scopes header)",
            "compare the app's OAuth & Permissions page with oauth_config.scopes.bot in "
            "manifest.yml",
        )
    missing = sorted(REQUIRED_SCOPES - granted)
    if missing:
        return problem("scopes", f"the token lacks {', '.join(missing)}", REINSTALL)
    return ok("scopes", f"all {len(REQUIRED_SCOPES)} scopes Handrail needs are granted")


def configured_channels(config: HandrailConfig) -> dict[str, list[str]]:
    """Each channel workflows.yml names, with where: ``review_channel of ticket-triage``."""
    uses: dict[str, list[str]] = {}
    for name, workflow in config.workflows.items():
        for field in ("review_channel", "alert_channel"):
            channel = getattr(workflow, field)
            if channel:
                uses.setdefault(channel, []).append(f"{field} of {name}")
    return uses


async def check_channel(
    settings: Settings,
    client: AsyncWebClient,
    channel_id: str,
    uses: list[str],
    granted: frozenset[str] | None,
) -> Finding:
    """The channel exists, is not archived, and the bot may post in it and read it back."""
    check = f"channel {channel_id}"
    where = "; ".join(uses)
    answer = await ask(settings, client.conversations_info, channel=channel_id)
    if isinstance(answer, Refusal):
        if answer.error == "channel_not_found":
            return problem(
                check,
                f"not found: it does not exist, or it is private and the bot is not in it "
                f"({where})",
                f"{INVITE}, or correct {where} in workflows.yml",
            )
        if answer.error == "missing_scope":
            return problem(
                check, f"cannot be looked at: the token lacks {answer.needed}", REINSTALL
            )
        return problem(check, f"Slack answered {answer.error} ({where})", f"correct {where}")
    info: Mapping[str, Any] = answer.get("channel") or {}
    label = f"#{info.get('name')}" if info.get("name") else channel_id
    if info.get("is_archived"):
        return problem(
            check,
            f"{label} is archived: nothing can be posted there ({where})",
            f"unarchive {label}, or point {where} at a live channel",
        )
    if info.get("is_member") or info.get("is_im"):
        return ok(check, f"{label}: the bot is a member; it can post and read")
    can = granted if granted is not None else REQUIRED_SCOPES
    if WRITE_PUBLIC not in can:
        return problem(
            check,
            f"{label}: the bot is not a member and the token lacks {WRITE_PUBLIC}",
            f"{INVITE}",
        )
    if JOIN not in can:
        return problem(
            check,
            f"{label}: the bot is not a member and cannot join to read its posts back",
            f"{INVITE}",
        )
    return warning(
        check,
        f"{label}: the bot is not a member; it posts with {WRITE_PUBLIC} and joins to read "
        "its posts back",
        f"{INVITE}, so it need not join on its own",
    )


def configured_people(config: HandrailConfig) -> dict[str, list[str]]:
    """Each person or usergroup workflows.yml names, with where: ``reviewers of x``."""
    uses: dict[str, list[str]] = {}
    for name, workflow in config.workflows.items():
        for field in ("owner", "reviewers", "admins", "oncall"):
            value = getattr(workflow, field)
            for slack_id in [value] if isinstance(value, str) else value or []:
                uses.setdefault(slack_id, []).append(f"{field} of {name}")
    return uses


async def check_person(
    settings: Settings, client: AsyncWebClient, slack_id: str, uses: list[str]
) -> Finding:
    """A user ID is someone active; a usergroup ID (``S…``) exists and has members."""
    where = "; ".join(uses)
    if slack_id.startswith("S"):
        return await _check_usergroup(settings, client, slack_id, where)
    check = f"person {slack_id}"
    answer = await ask(settings, client.conversations_open, users=slack_id)
    if not isinstance(answer, Refusal):
        return ok(check, "found and active")
    if answer.error == "user_not_found":
        return problem(
            check,
            f"no such user in this workspace ({where})",
            f"correct {where} in workflows.yml: a member ID (U…) is under the person's "
            "profile, ⋮ → Copy member ID",
        )
    if answer.error == "user_disabled":
        return problem(
            check,
            f"deactivated: they can no longer review or be paged ({where})",
            f"replace {slack_id} in {where} in workflows.yml",
        )
    if answer.error == "missing_scope":
        return problem(check, f"cannot be looked up: the token lacks {answer.needed}", REINSTALL)
    return problem(check, f"Slack answered {answer.error} ({where})", f"check {where}")


async def _check_usergroup(
    settings: Settings, client: AsyncWebClient, group: str, where: str
) -> Finding:
    check = f"usergroup {group}"
    answer = await ask(settings, client.usergroups_users_list, usergroup=group)
    if isinstance(answer, Refusal):
        if answer.error == "no_such_subteam":
            return problem(
                check,
                f"no such usergroup in this workspace ({where})",
                f"correct {where} in workflows.yml (a usergroup ID starts with S)",
            )
        if answer.error == "missing_scope":
            return problem(check, f"cannot be read: the token lacks {answer.needed}", REINSTALL)
        return problem(check, f"Slack answered {answer.error} ({where})", f"check {where}")
    members = answer.get("users") or []
    if not members:
        return problem(
            check,
            f"has no active members, so nobody can act for it ({where})",
            f"add people to the usergroup, or name people in {where}",
        )
    return ok(check, f"{len(members)} active member(s)")


async def check_slack(
    settings: Settings, config: HandrailConfig | None, *, people: bool = True
) -> list[Finding]:
    """Token, scopes, channels and (unless ``people`` is False) people, in that order.

    Nothing is asked when no token is set; when Slack does not answer, that is the one
    finding and the remaining checks are skipped (each would only say the same).
    """
    if settings.slack_bot_token is None:
        return [
            warning(
                "bot token",
                "SLACK_BOT_TOKEN is not set: Slack delivery is off and handoffs wait in the outbox",
                "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…)",
            )
        ]
    client = slack_client(settings)
    findings: list[Finding] = []
    try:
        token, who = await check_token(settings, client)
        findings.append(token)
        if who is None:
            return findings
        findings.append(check_scopes(who.scopes))
        if config is None:
            return findings
        limit = asyncio.Semaphore(PARALLEL_CALLS)

        async def bounded(check: Awaitable[Finding]) -> Finding:
            async with limit:
                return await check

        checks: list[Awaitable[Finding]] = [
            check_channel(settings, client, channel, uses, who.scopes)
            for channel, uses in configured_channels(config).items()
        ]
        if people:
            checks += [
                check_person(settings, client, slack_id, uses)
                for slack_id, uses in configured_people(config).items()
            ]
        results = await asyncio.gather(*(bounded(c) for c in checks), return_exceptions=True)
    except SlackUnreachable as unreachable:
        return [*findings, unreachable.finding]
    for result in results:
        if isinstance(result, SlackUnreachable):
            return [*findings, result.finding]  # one line says it; the rest would repeat it
        if isinstance(result, BaseException):
            raise result
        findings.append(result)
    return findings
