"""``handrail audit``: verify the tamper-evident log, export it, print its head."""

from __future__ import annotations

import argparse
import re
import sys
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.services import Services
from store.repositories.audit import get_chain_head
from workflows.audit.export import FORMATS, write_export
from workflows.audit.verify import verify_audit_log
from workflows.errors import InvalidInput

_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


def add_audit_parser(commands: Any) -> None:
    """Add ``audit`` to the ``handrail`` subcommands (``commands`` is argparse's subparsers)."""
    audit = commands.add_parser("audit", help="verify, export or publish the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the whole hash chain and the decisions against it"
    )
    verify.add_argument(
        "--head",
        type=published_head,
        help="a head printed earlier by 'handrail audit head' (SEQ:HASH), still to be found",
    )
    verify.set_defaults(handler=audit_verify)
    export = audit_commands.add_parser("export", help="entries with their hashes, for an auditor")
    export.add_argument("--since", type=moment, required=True, help="e.g. 2026-12-01")
    export.add_argument("--until", type=moment, help="exclusive; e.g. 2027-01-01T00:00")
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    export.add_argument("--output", type=Path, help="a file to write (default: stdout)")
    export.set_defaults(handler=audit_export)
    head = audit_commands.add_parser("head", help="print the chain head (SEQ:HASH) to publish")
    head.set_defaults(handler=audit_head)


def published_head(value: str) -> tuple[int, str]:
    """``--head``: ``SEQ:HASH`` as ``handrail audit head`` prints it."""
    match = _HEAD.match(value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not SEQ:HASH (a sequence number, a colon, 64 hex digits)"
        )
    return int(match.group(1)), match.group(2)


def moment(value: str) -> datetime:
    """``--since``/``--until``: an ISO date or date-time, UTC unless it names an offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date; write e.g. 2026-12-01 or 2026-12-01T09:30"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def audit_verify(services: Services, args: argparse.Namespace) -> int:
    async with services.sessions() as db, db.begin():
        result = await verify_audit_log(db, published=args.head)
    if result.broken is not None:
        print(f"audit log broken at {result.broken}", file=sys.stderr)
        return 1
    head = f"; head {result.head[0]}:{result.head[1]}" if result.head else ""
    print(f"audit log intact: {result.entries} entries, {result.decisions} decisions{head}")
    return 0


async def audit_export(services: Services, args: argparse.Namespace) -> int:
    target: Any = None
    if args.output is not None:
        try:
            target = args.output.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise InvalidInput(
                f"cannot write {args.output}: {exc.strerror}; choose another --output"
            ) from None
    with target if target is not None else nullcontext(sys.stdout) as out:
        stream: TextIO = out
        async with services.sessions() as db, db.begin():
            count = await write_export(
                db, since=args.since, until=args.until, fmt=args.format, out=stream
            )
    print(f"exported {count} entries", file=sys.stderr)
    return 0


async def audit_head(services: Services, args: argparse.Namespace) -> int:
    async with services.sessions() as db:
        head = await get_chain_head(db)
    if head is None:
        print("the audit log is empty", file=sys.stderr)
        return 0
    print(f"{head.sequence}:{head.hash}")
    return 0
