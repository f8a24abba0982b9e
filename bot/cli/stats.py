"""``handrail stats`` and ``handrail prompt note``: the review metrics and the prompt changelog."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from bot.cli.stats_html import write_html_report
from bot.cli.stats_text import render_stats
from bot.services import Services
from workflows.durations import parse_duration
from workflows.stats.prompt_notes import add_prompt_note
from workflows.stats.report import SPLITS, build_stats, policy_of


def window(value: str) -> timedelta:
    """``--since``: a duration such as 30d or 12h."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except OverflowError:  # more days than a timedelta holds
        raise argparse.ArgumentTypeError(f"{value!r} is too long; write at most 3660d") from None


async def stats(services: Services, args: argparse.Namespace) -> int:
    async with services.readers() as db:
        report = await build_stats(
            db,
            config=services.config,
            workflow=args.workflow,
            since=args.since,
            split=args.by,
            now=services.clock(),
        )
    if args.html is not None:
        await write_html_report(services, report, path=args.html)
        print(f"wrote {args.html}")
    elif args.json:
        sys.stdout.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_stats(report, suggest_only=args.suggest))
    return 0


async def prompt_note(services: Services, args: argparse.Namespace) -> int:
    policy_of(services.config, args.workflow)
    async with services.sessions() as db, db.begin():
        note, _ = await add_prompt_note(
            db,
            workflow=args.workflow,
            version=args.version,
            reason=args.reason,
            author=args.author or args.actor,
            now=services.clock(),
        )
    print(f"noted {args.workflow} prompt version {note.version} ({note.author}): {note.reason}")
    return 0


def add_commands(commands: Any, *, actor: Callable[[], str]) -> None:
    """Add ``stats`` and ``prompt note`` to the ``handrail`` parser's subcommands."""
    parser = commands.add_parser("stats", help="review metrics of a workflow")
    parser.add_argument("workflow")
    parser.add_argument("--since", type=window, default=timedelta(days=30), help="e.g. 30d, 12h")
    parser.add_argument("--by", choices=SPLITS, help="one row per action, version or reviewer")
    parser.add_argument("--json", action="store_true", help="JSON for machines")
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="write a self-contained report with charts"
    )
    parser.add_argument(
        "--suggest", action="store_true", help="only the thresholds to consider, as YAML changes"
    )
    parser.set_defaults(handler=stats)

    prompt = commands.add_parser("prompt", help="the prompt-version changelog")
    prompt_commands = prompt.add_subparsers(dest="prompt_command", required=True)
    note = prompt_commands.add_parser("note", help="say why a prompt version was made")
    note.add_argument("workflow")
    note.add_argument("version")
    note.add_argument("reason")
    note.add_argument("--author", help="who made the change (default: cli:<your user>)")
    note.set_defaults(handler=prompt_note, actor=actor())
