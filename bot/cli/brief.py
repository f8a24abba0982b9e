"""``handrail brief diff``: backtest a proposed workflows.yml against the recorded questions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from bot.cli.brief_text import render_backtest
from bot.cli.stats import window
from bot.services import Services
from workflows.backtest.promotion import record_backtest
from workflows.backtest.scan import chosen_workflows, run_backtest
from workflows.config.brief import load_config
from workflows.errors import ConfigError


async def brief_diff(services: Services, args: argparse.Namespace) -> int:
    """Validate the proposed brief (every problem, nothing evaluated), then backtest it."""
    try:
        proposed = load_config(args.brief)
    except ConfigError as exc:
        problems = "\n".join(f"  - {problem}" for problem in exc.problems)
        print(
            f"error: the proposed brief has {len(exc.problems)} problem(s); "
            f"nothing was evaluated\n{problems}",
            file=sys.stderr,
        )
        return 1
    workflows = chosen_workflows(proposed, args.workflow)
    progress = _terminal_progress() if sys.stderr.isatty() else None
    async with services.readers() as db:
        report = await run_backtest(
            db,
            current=services.config,
            proposed=proposed,
            brief=str(args.brief),
            workflows=workflows,
            since=args.since,
            now=services.clock(),
            progress=progress,
        )
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        sys.stdout.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_backtest(report))
    if args.record:
        async with services.sessions() as db, db.begin():
            entries = await record_backtest(
                db, report=report, proposed=proposed, actor=args.actor, now=services.clock()
            )
        numbers = ", ".join(f"#{entry.sequence}" for entry in entries) or "none"
        print(f"recorded in the audit log as entr(ies) {numbers}", file=sys.stderr)
    return 0


def _terminal_progress() -> Callable[[str, int], None]:
    def _show(workflow: str, count: int) -> None:
        sys.stderr.write(f"\r{workflow}: {count} question(s) re-decided")
        sys.stderr.flush()

    return _show


def add_commands(commands: Any, *, actor: Callable[[], str]) -> None:
    """Add ``brief diff`` to the ``handrail`` parser's subcommands."""
    brief = commands.add_parser("brief", help="try a proposed workflows.yml on past questions")
    brief_commands = brief.add_subparsers(dest="brief_command", required=True)
    diff = brief_commands.add_parser(
        "diff", help="re-decide the recorded gate questions under a proposed workflows.yml"
    )
    diff.add_argument("brief", type=Path, help="the proposed workflows.yml")
    diff.add_argument(
        "--since", type=window, default=timedelta(days=14), help="e.g. 14d, 12h (default 14d)"
    )
    diff.add_argument("--workflow", help="only this workflow of the proposed brief")
    diff.add_argument("--json", action="store_true", help="JSON for machines")
    diff.add_argument(
        "--record",
        action="store_true",
        help="keep the report's digest and figures in the audit log, for a later promotion",
    )
    diff.set_defaults(handler=brief_diff, actor=actor())
