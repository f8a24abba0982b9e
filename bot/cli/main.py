"""The ``handrail`` command: serve, migrate, manage tokens, read traces."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from importlib.metadata import version
from multiprocessing.process import BaseProcess
from typing import NoReturn

from aiohttp import web

from bot.app import build_app, build_services, prepare_database
from bot.cli import brief as cli_brief
from bot.cli import data as cli_data
from bot.cli import stats as cli_stats
from bot.cli.audit import add_audit_parser
from bot.cli.trace_text import render_trace
from bot.demo.command import add_demo_parser
from bot.doctor import startup as doctor_startup
from bot.doctor.command import add_doctor_parser, run_doctor
from bot.logs import ACCESS, AccessLogger, configure_logging
from bot.metrics.multiprocess import metrics_dir_for_workers
from bot.services import Services
from bot.settings import Settings, read_settings
from bot.start_failures import check_database_url, explain
from store.migrate import SchemaMismatch
from store.repositories import credentials as credential_rows
from workflows import credentials
from workflows.credentials import DEFAULT_SCOPES, SCOPES
from workflows.durations import parse_duration
from workflows.errors import ConfigError, HandrailError
from workflows.ledger.story import read_run_story
from workflows.pause.switch import pause_workflow, resume_workflow

log = logging.getLogger("handrail")

Command = Callable[[Services, argparse.Namespace], Awaitable[int]]

#: What ``handrail --help`` says first: plain words, since argparse prints them as written.
DESCRIPTION = (
    "Handrail keeps AI automations on a handrail: serve the API and the Slack app, migrate "
    "the database, manage workflow tokens, pause and resume workflows, read a run's trace, "
    "and play a demo."
)

#: The longest token expiry; a token meant to outlive that is created with ``never``.
LONGEST_EXPIRY = timedelta(days=36_500)


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument on one line (and exit status 2), without usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status = _command(args)
        sys.stdout.flush()  # here, where a closed pipe can still be answered quietly
    except BrokenPipeError:
        return _reader_went_away()
    return status


def _command(args: argparse.Namespace) -> int:
    """Run the command; every failure a user can fix ends as one line on stderr."""
    settings: Settings | None = None
    try:
        settings = read_settings()
        check_database_url(settings.database_url)
        configure_logging(level=settings.log_level, json_lines=settings.log_format == "json")
        if args.command == "serve":
            return serve(settings, args.workers)
        if args.command == "sandbox":
            return _sandbox(settings, args.port, demo=args.demo)
        if args.command == "doctor":
            return run_doctor(settings)
        return asyncio.run(_run(settings, args.handler, args))
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except SchemaMismatch as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except HandrailError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:
        failure = None if settings is None else explain(exc, settings)
        if failure is None:
            raise
        print(f"error: {failure.message}", file=sys.stderr)
        return 1


def _reader_went_away() -> int:
    """``handrail token list | head -1``: the reader closed the pipe, so stop quietly.

    Whatever is still buffered for stdout is dropped (pointing stdout at /dev/null, so
    the interpreter's last flush has nowhere to fail), and the exit status is the one a
    Unix tool killed by SIGPIPE reports: 128 + 13.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def _sandbox(settings: Settings, port: int | None, *, demo: bool) -> int:
    """``handrail sandbox``; the emulator is a distribution of its own, loaded only here."""
    try:
        from bot.sandbox_run import page_port_from_env, run_sandbox
    except ModuleNotFoundError as missing:
        if missing.name != "sandbox" and not (missing.name or "").startswith("sandbox."):
            raise
        raise HandrailError(
            "the local Slack is not installed; run `make run` from the repository, or"
            " `pip install -e ./sandbox` beside the server"
        ) from None
    return asyncio.run(run_sandbox(settings, page_port=port or page_port_from_env(), demo=demo))


def serve(settings: Settings, workers: int = 1) -> int:
    """Run the API (and, when configured, the Slack app) until interrupted.

    With ``workers`` > 1 the database is migrated once, then that many processes share the
    port (SO_REUSEPORT) as independent instances: the same design as several instances
    behind a load balancer (state in the database, outbox claims and scheduler leases
    decided in SQL), using every core of one machine. This process then only watches
    them, so that every serving process writes its metrics to the shared directory.
    """
    if workers <= 1:
        _serve_instance(migrate=True, shared_port=False)
        return 0
    asyncio.run(_run(settings, db_upgrade, argparse.Namespace()))
    doctor_startup.check_before_workers(settings)
    context = multiprocessing.get_context("spawn")
    with metrics_dir_for_workers():
        children = [
            context.Process(target=_serve_instance, kwargs={"migrate": False, "shared_port": True})
            for _ in range(workers)
        ]
        for child in children:
            child.start()
        return _supervise(children)


def _supervise(children: Sequence[BaseProcess]) -> int:
    """Wait for a stop signal (then stop the workers) or for a worker to die (then 1)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    failed = False
    while not stop.wait(0.5):
        if any(not child.is_alive() for child in children):
            log.error("a server process stopped unexpectedly; stopping the others")
            failed = True
            break
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=10)
    return 1 if failed else 0


def _serve_instance(*, migrate: bool, shared_port: bool) -> None:
    """One server process; settings are read again from the environment it inherited."""
    settings = read_settings()
    configure_logging(level=settings.log_level, json_lines=settings.log_format == "json")
    app = build_app(settings, migrate=migrate)
    if not shared_port:  # several workers: the supervisor checked once for all
        app.on_startup.append(doctor_startup.on_startup)
    app.on_startup.append(_freeze_start_up_heap)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=lambda _banner: log.info("listening on http://%s:%d", settings.host, settings.port),
        access_log=ACCESS,
        access_log_class=AccessLogger,
        reuse_port=shared_port or None,
    )


async def _freeze_start_up_heap(_app: web.Application) -> None:
    """Take what start-up allocated out of the garbage collector's sight, and collect less often.

    Imports, compiled SQL and Block Kit models are a few hundred thousand objects that live
    as long as the process. A full collection walked all of them, pausing the event loop
    for 60-140 ms in the middle of a burst of clicks: that pause was the acknowledgement
    p99 (bench/ack_latency.py). Frozen, they are never walked again. The higher thresholds
    space out the young collections (each a few ms while a burst's requests are alive) and
    the full ones; garbage with cycles waits a little longer, and nothing else changes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(2000, 20, 50)


async def _run(settings: Settings, handler: Command, args: argparse.Namespace) -> int:
    """Run one command; only ``db upgrade`` migrates, every other one needs the schema current."""
    services = build_services(settings)
    try:
        await prepare_database(services, migrate=handler is db_upgrade)
        return await handler(services, args)
    finally:
        await services.engine.dispose()


async def db_upgrade(services: Services, args: argparse.Namespace) -> int:
    print("database is up to date", file=sys.stderr)
    return 0


async def token_create(services: Services, args: argparse.Namespace) -> int:
    services.workflow(args.workflow)
    async with services.sessions() as db, db.begin():
        token, credential = await credentials.create_token(
            db,
            workflow=args.workflow,
            scopes=tuple(args.scope or DEFAULT_SCOPES),
            expires_in=args.expires_in,
            label=args.label,
            now=services.clock(),
            actor=cli_actor(),
        )
    expiry = f"{credential.expires_at:%Y-%m-%d}" if credential.expires_at else "never"
    print(
        f"created token {credential.prefix} for {args.workflow} "
        f"(scopes: {', '.join(credential.scopes)}; expires: {expiry}). "
        "It is shown once; store it now.",
        file=sys.stderr,
    )
    print(token)
    return 0


async def token_list(services: Services, args: argparse.Namespace) -> int:
    async with services.sessions() as db:
        rows = await credential_rows.list_credentials(db, args.workflow)
    now = services.clock()
    print(
        f"{'PREFIX':<14}{'WORKFLOW':<24}{'SCOPES':<44}{'EXPIRES':<12}{'STATE':<9}"
        f"{'LAST USED':<18}LABEL"
    )
    for row in rows:
        state = (
            "revoked"
            if row.revoked_at
            else "expired"
            if row.expires_at and row.expires_at <= now
            else "active"
        )
        print(
            f"{row.prefix:<14}{row.workflow:<24}{','.join(row.scopes):<44}"
            f"{f'{row.expires_at:%Y-%m-%d}' if row.expires_at else 'never':<12}{state:<9}"
            f"{f'{row.last_used_at:%Y-%m-%d %H:%M}' if row.last_used_at else '—':<18}"
            f"{row.label or ''}"
        )
    return 0


async def token_revoke(services: Services, args: argparse.Namespace) -> int:
    async with services.sessions() as db, db.begin():
        credential = await credentials.revoke_token(
            db, prefix_or_id=args.token, now=services.clock(), actor=cli_actor()
        )
    print(f"revoked token {credential.prefix} of {credential.workflow}", file=sys.stderr)
    return 0


async def pause(services: Services, args: argparse.Namespace) -> int:
    """Pause a workflow (or all) for every running instance: the switch is in the database."""
    async with services.sessions() as db, db.begin():
        outcome = await pause_workflow(
            db,
            config=services.config,
            workflow=args.workflow,
            actor=cli_actor(),
            reason=args.reason,
            now=services.clock(),
        )
    if outcome.changed:
        print(f"paused {outcome.label}; an admin resumes with: handrail resume {args.workflow}")
    else:
        why = f": {outcome.reason}" if outcome.reason else ""
        print(f"{outcome.label} was already paused by {outcome.paused_by}{why}; nothing changed")
    return 0


async def resume(services: Services, args: argparse.Namespace) -> int:
    """Resume a workflow and release what its pause held (the running server delivers it)."""
    async with services.sessions() as db, db.begin():
        outcome = await resume_workflow(
            db,
            config=services.config,
            workflow=args.workflow,
            actor=cli_actor(),
            now=services.clock(),
            note=args.note,
        )
    if outcome.changed:
        print(
            f"resumed {outcome.label}; released {outcome.released_decisions} held decision(s) "
            f"and {outcome.released_deliveries} held deliver(ies)"
        )
    else:
        print(f"{outcome.label} has no pause of its own; nothing changed")
    if outcome.still_paused is not None:
        print(
            f"still paused: all workflows are paused by {outcome.still_paused.paused_by}; "
            "run: handrail resume all"
        )
    return 0


def cli_actor() -> str:
    """Who the audit log names for a change made here: ``cli:<os user>``."""
    return f"cli:{getpass.getuser()}"[:64]


async def trace(services: Services, args: argparse.Namespace) -> int:
    async with services.sessions() as db:
        story = await read_run_story(db, run_id=args.run_id)
    sys.stdout.write(render_trace(story))
    return 0


def worker_count(value: str) -> int:
    """``--workers``: a whole number of processes, at least one."""
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of processes; give 1 or more (1 is one process)"
        )
    return count


def expiry(value: str) -> timedelta | None:
    """``--expires-in``: a duration up to ``LONGEST_EXPIRY``, or ``never`` (None)."""
    if value == "never":
        return None
    try:
        expires_in: timedelta | None = parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except OverflowError:  # more days than a timedelta holds
        expires_in = None
    if expires_in is None or expires_in > LONGEST_EXPIRY:
        raise argparse.ArgumentTypeError(
            f"{value!r} is longer than {LONGEST_EXPIRY.days} days; "
            "for a token that does not expire write 'never'"
        )
    return expires_in


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="handrail", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('handrail')}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the API and the Slack app")
    serve_parser.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        help="server processes sharing the port (default 1)",
    )

    sandbox = commands.add_parser("sandbox", help="serve with a local Slack in the browser")
    sandbox.add_argument(
        "--port", type=int, help="the page's port (default: HANDRAIL_SANDBOX_PORT or 8090)"
    )
    sandbox.add_argument(
        "--demo",
        action="store_true",
        help="play the demo automation beside it, so the page has cases to decide at once",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations").set_defaults(handler=db_upgrade)
    cli_data.add_db_commands(db_commands)

    token = commands.add_parser("token", help="workflow tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token; prints it once")
    create.add_argument("workflow")
    create.add_argument("--scope", action="append", choices=SCOPES, help="repeat for several")
    create.add_argument(
        "--expires-in", type=expiry, default="90d", help="e.g. 30d, 12h, or 'never'"
    )
    create.add_argument("--label", help="what uses this token")
    create.set_defaults(handler=token_create)
    listing = token_commands.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("workflow", nargs="?")
    listing.set_defaults(handler=token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by prefix or ID")
    revoke.add_argument("token")
    revoke.set_defaults(handler=token_revoke)

    pause_parser = commands.add_parser("pause", help="stop a workflow (or all) at once")
    pause_parser.add_argument("workflow", help="a workflow name, or 'all'")
    pause_parser.add_argument("--reason", help="why; shown to everyone and kept in the audit log")
    pause_parser.set_defaults(handler=pause)
    resume_parser = commands.add_parser("resume", help="resume a workflow; held work is released")
    resume_parser.add_argument("workflow", help="a workflow name, or 'all'")
    resume_parser.add_argument("--note", help="kept in the audit log")
    resume_parser.set_defaults(handler=resume)

    trace_parser = commands.add_parser("trace", help="print a run as a timeline")
    trace_parser.add_argument("run_id")
    trace_parser.set_defaults(handler=trace)
    add_demo_parser(commands)
    add_doctor_parser(commands)
    cli_stats.add_commands(commands, actor=cli_actor)
    cli_brief.add_commands(commands, actor=cli_actor)
    cli_data.add_commands(commands)
    add_audit_parser(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
