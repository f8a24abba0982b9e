"""The doctor's short form at ``handrail serve`` start-up: warnings in the log, never a stop.

It asks Slack only for the token, its scopes and the channels, within a few seconds; a
slow Slack costs start-up at most ``STARTUP_BUDGET_SECONDS`` and one log line. Whatever it
finds, the server starts: a deployment half-configured still keeps its ledger and outbox.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.doctor.checkup import diagnose_at_start
from bot.doctor.findings import Finding, Status
from bot.doctor.render import log_line
from bot.services import SERVICES
from bot.settings import Settings
from workflows.config.brief import HandrailConfig, load_config
from workflows.errors import ConfigError

log = logging.getLogger("handrail.doctor")

#: The longest start-up waits for the check; what is unfinished by then is left unchecked.
STARTUP_BUDGET_SECONDS = 3.0


async def check_at_start(
    settings: Settings, config: HandrailConfig, *, budget: float = STARTUP_BUDGET_SECONDS
) -> list[Finding]:
    """Log each warning or problem as one line; return every finding (for tests)."""
    try:
        async with asyncio.timeout(budget):
            findings = await diagnose_at_start(settings, config)
    except TimeoutError:
        log.warning(
            "doctor: Slack did not finish the start-up checks within %g s; starting anyway "
            "(run `handrail doctor` for the full check)",
            budget,
        )
        return []
    for finding in findings:
        if finding.status is not Status.OK:
            log.warning("%s (run `handrail doctor` for the full check)", log_line(finding))
    return findings


async def on_startup(app: web.Application) -> None:
    """``app.on_startup`` hook for ``handrail serve`` (after the database is prepared)."""
    services = app[SERVICES]
    await check_at_start(services.settings, services.config)


def check_before_workers(settings: Settings) -> None:
    """``serve --workers N``: check once in the supervising process, not once per worker."""
    try:
        config = load_config(settings.config_path)
    except (ConfigError, OSError):
        return  # each worker stops on it with its own one-line message
    asyncio.run(check_at_start(settings, config))
