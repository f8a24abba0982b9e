"""The whole check-up, in the order a person fixes things: config, database, Slack, URLs.

``diagnose`` is the full form (``handrail doctor``); ``diagnose_at_start`` the short one
``handrail serve`` runs, which only asks Slack the few things a start-up can afford.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

import aiohttp

from bot.doctor.deployment import check_callbacks, check_database, check_mode, check_public_url
from bot.doctor.findings import Finding, ok, problem
from bot.doctor.slack import check_slack
from bot.settings import Settings
from workflows.config.brief import HandrailConfig, load_config
from workflows.errors import ConfigError

T = TypeVar("T")


def check_config(
    settings: Settings, environ: Mapping[str, str]
) -> tuple[list[Finding], HandrailConfig | None]:
    """workflows.yml loads, and the variables it names are set; the config, if readable.

    A missing callback secret is a problem, yet the rest of the file is still checked
    against Slack, so the file is read a second time without the environment.
    """
    path = settings.config_path
    try:
        config = load_config(path, environ=environ)
    except OSError as exc:  # unreadable: a directory, no permission
        reason = exc.strerror or type(exc).__name__
        return [
            problem(
                "workflows.yml", f"{path} cannot be read: {reason}", "fix its path or permissions"
            )
        ], None
    except ConfigError as exc:
        found = [
            problem("workflows.yml", line, f"edit {path}; `handrail serve` refuses to start")
            for line in exc.problems
        ]
        try:
            return found, load_config(path)
        except ConfigError:
            return found, None
    return [ok("workflows.yml", f"{path}: {len(config.workflows)} workflow(s)")], config


async def diagnose(settings: Settings, *, environ: Mapping[str, str]) -> list[Finding]:
    """Every check; never raises for what it finds (an unexpected error is a finding too)."""
    findings, config = check_config(settings, environ)
    findings.append(await _guarded("database", check_database(settings)))
    findings.append(check_mode(settings))
    findings += await _guarded_many("slack", check_slack(settings, config))
    async with aiohttp.ClientSession() as session:
        public = await _guarded("public url", check_public_url(settings, session))
        if public is not None:
            findings.append(public)
        if config is not None:
            findings += await _guarded_many("callback urls", check_callbacks(config, session))
    return findings


async def diagnose_at_start(settings: Settings, config: HandrailConfig) -> list[Finding]:
    """The start-up form: the bot token, its scopes and the channels, nothing else."""
    if not settings.slack_configured:
        return []  # start-up already says Slack is off
    return await _guarded_many("slack", check_slack(settings, config, people=False))


async def _guarded(check: str, work: Awaitable[T]) -> T | Finding:
    try:
        return await work
    except Exception as exc:  # a check's own failure is reported, never a traceback
        return _unexpected(check, exc)


async def _guarded_many(check: str, work: Awaitable[list[Finding]]) -> list[Finding]:
    try:
        return await work
    except Exception as exc:  # a check's own failure is reported, never a traceback
        return [_unexpected(check, exc)]


def _unexpected(check: str, exc: Exception) -> Finding:
    reason = (str(exc).splitlines() or [""])[0][:200]
    return problem(
        check,
        f"the check itself failed: {type(exc).__name__}: {reason}",
        "run again with HANDRAIL_LOG_LEVEL=DEBUG, and report it with this line",
    )
