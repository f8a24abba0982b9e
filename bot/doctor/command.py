"""``handrail doctor``: print the checklist, exit 1 when anything is wrong."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from bot.doctor.checkup import diagnose
from bot.doctor.findings import exit_status
from bot.doctor.render import render_checklist
from bot.settings import Settings


def add_doctor_parser(commands: Any) -> None:
    """Add ``doctor`` to the ``handrail`` subcommands (``commands`` is argparse's subparsers)."""
    commands.add_parser(
        "doctor",
        help="check this deployment against Slack, the database and its URLs; print the fixes",
        description=(
            "Check the bot token and its scopes, every configured channel, reviewer, admin "
            "and on-call person, the Slack mode's secret, the database and its migrations, "
            "the public URL and the callback URLs. Exits 1 when anything is wrong."
        ),
    )


def run_doctor(settings: Settings) -> int:
    """Run every check and print the checklist on stdout; the exit status says if it passed."""
    findings = asyncio.run(diagnose(settings, environ=os.environ))
    sys.stdout.write(render_checklist(findings))
    return exit_status(findings)
