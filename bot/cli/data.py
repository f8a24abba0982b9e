"""The data-lifecycle commands: ``purge`` (erasure on request), ``export`` and ``db backup``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from contextlib import closing, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.services import Services
from store.repositories.export import KINDS, RunFilter
from workflows.errors import HandrailError
from workflows.lifecycle.export import DEFAULT_KINDS, export
from workflows.lifecycle.retention import erase_runs, find_runs_to_erase

PG_DUMP_HINT = (
    "PostgreSQL is backed up with its own tool: pg_dump --format=custom --file FILE "
    '"$DATABASE" (see the README, Data lifecycle); handrail db backup copies SQLite only'
)


async def purge(services: Services, args: argparse.Namespace) -> int:
    """Erase the runs asked for, everywhere they were stored, after a confirmation."""
    from bot.cli.main import cli_actor  # the CLI module imports this one to add its commands

    runs = await find_runs_to_erase(
        services.sessions, run_ids=args.run or [], input_source=args.input_source
    )
    if not runs:
        print("no run matches; nothing erased", file=sys.stderr)
        return 0
    ids = [run_id for run_id, _ in runs]
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                f"refusing to erase {len(ids)} run(s) without confirmation: "
                "run it on a terminal, or add --yes",
                file=sys.stderr,
            )
            return 2
        answer = await asyncio.to_thread(
            input, f"Erase {len(ids)} run(s) ({shown}) and everything stored about them? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing erased", file=sys.stderr)
            return 1
    erased = await erase_runs(
        services.sessions,
        runs,
        actor=cli_actor(),
        reason=args.reason,
        matched_by="run_id" if args.run else "input_source",
        now=services.clock(),
    )
    counts = ", ".join(f"{count} {table}" for table, count in sorted(erased.counts.items()))
    print(f"erased {len(erased.run_ids)} run(s): {counts}; the audit log says why", file=sys.stderr)
    return 0


async def export_records(services: Services, args: argparse.Namespace) -> int:
    """Stream the chosen records to stdout or ``--output``; progress only on a terminal."""
    runs = RunFilter(
        workflow=args.workflow, statuses=args.status or (), since=args.since, until=args.until
    )
    progress = _progress if sys.stderr.isatty() else None
    try:
        target = (
            args.output.open("w", newline="", encoding="utf-8")
            if args.output
            else nullcontext(sys.stdout)
        )
    except OSError as exc:
        raise HandrailError(f"cannot write {args.output}: {exc.strerror}") from None
    with target as out:
        written = await export(
            services.readers,
            out,
            kinds=args.records,
            runs=runs,
            csv_format=args.format == "csv",
            progress=progress,
        )
    if progress is not None:
        print(f"\rexported {written} record(s)", file=sys.stderr)
    return 0


def _progress(written: int) -> None:
    print(f"\rexported {written} record(s)…", end="", file=sys.stderr, flush=True)


async def db_backup(services: Services, args: argparse.Namespace) -> int:
    """A consistent copy of a live SQLite store, taken with SQLite's online backup API."""
    url = make_url(services.settings.database_url)
    if url.get_backend_name() != "sqlite":
        print(PG_DUMP_HINT, file=sys.stderr)
        return 2
    target = Path(args.file)
    try:
        await asyncio.to_thread(backup_sqlite, Path(url.database or ""), target)
    except FileExistsError:
        raise HandrailError(f"{target} already exists; choose a new file for the backup") from None
    except (OSError, sqlite3.Error) as exc:
        raise HandrailError(f"cannot back up to {target}: {exc}") from None
    print(f"backed up {url.database} to {target}", file=sys.stderr)
    return 0


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` in one step of SQLite's backup API: one read
    transaction, so the copy is the database as it was at one instant, while writers go on
    (WAL). It is written beside ``target`` and renamed, so a failed copy leaves no file."""
    if target.exists():
        raise FileExistsError(target)
    partial = target.with_name(f".{target.name}.partial")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(partial)) as copy:
        live.execute("PRAGMA busy_timeout=10000")
        live.backup(copy)
    os.replace(partial, target)


def timestamp(value: str) -> datetime:
    """``--since``/``--until``: an ISO 8601 date or time, UTC unless it says otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date or time; write it like 2026-01-31 or 2026-01-31T09:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def record_kinds(value: str) -> list[str]:
    kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown record kind(s) {', '.join(unknown) or value!r}; "
            f"choose from {', '.join(KINDS)}"
        )
    return kinds


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """``purge`` and ``export`` on the top-level parser."""
    purge_parser = commands.add_parser(
        "purge", help="erase a person's data: runs with everything stored about them"
    )
    which = purge_parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", action="append", metavar="RUN_ID", help="repeat for several")
    which.add_argument("--input-source", help="every run started from this input source")
    purge_parser.add_argument(
        "--reason", default="erasure request", help="why; kept in the audit log"
    )
    purge_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge_parser.set_defaults(handler=purge)

    export_parser = commands.add_parser("export", help="export runs, handoffs and decisions")
    export_parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export_parser.add_argument(
        "--records",
        type=record_kinds,
        default=list(DEFAULT_KINDS),
        help=f"comma-separated, from {', '.join(KINDS)} (default: {','.join(DEFAULT_KINDS)})",
    )
    export_parser.add_argument("--workflow")
    export_parser.add_argument("--status", action="append", help="run status; repeat for several")
    export_parser.add_argument("--since", type=timestamp, help="runs started at or after")
    export_parser.add_argument("--until", type=timestamp, help="runs started before")
    export_parser.add_argument("--output", type=Path, help="a file instead of stdout")
    export_parser.set_defaults(handler=export_records)


def add_db_commands(db_commands: argparse._SubParsersAction[Any]) -> None:
    """``db backup`` beside ``db upgrade``."""
    backup = db_commands.add_parser("backup", help="a consistent copy of a live SQLite store")
    backup.add_argument("file")
    backup.set_defaults(handler=db_backup)
