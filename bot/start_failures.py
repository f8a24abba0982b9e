"""Start-up and database failures as one line naming the fix, never a traceback.

A new user's first hour meets these before anything else: a port already taken, a
PostgreSQL that is not running, a mistyped host or database name, a URL written for
another driver, an SQLite file in a directory that does not exist. Each becomes a
``StartFailure`` whose message says what is wrong and what to change. The URL is checked
before anything connects; what only connecting can tell is recognised in the exception
the driver raised. Passwords in the URL are never repeated.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings
from workflows.errors import HandrailError

VARIABLE = "HANDRAIL_DATABASE_URL"
DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
#: SQLSTATEs PostgreSQL answers a connection with: no such database, user refused.
NO_DATABASE = "3D000"
REFUSED_LOGIN = frozenset({"28000", "28P01"})
SHAPES = "sqlite+aiosqlite:///path/to/handrail.db or postgresql+asyncpg://user@host:5432/db"


class StartFailure(HandrailError):
    """Handrail cannot start or reach its database; the message names the fix."""

    code = "start_failure"
    status = 500


def check_database_url(url: str) -> None:
    """Refuse a URL Handrail cannot use before anything tries to connect with it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StartFailure(f"{VARIABLE} is not a database URL; write it as {SHAPES}") from None
    backend, _, driver = parsed.drivername.partition("+")
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in DRIVERS:
        raise StartFailure(
            f"{VARIABLE} names a {backend} database; Handrail keeps its store in SQLite or "
            f"PostgreSQL: {SHAPES}"
        )
    wanted = DRIVERS[backend]
    if driver != wanted:
        scheme = f"{parsed.drivername}://"
        raise StartFailure(
            f"{VARIABLE} starts with {scheme}; use {backend}+{wanted}:// (Handrail talks to "
            f"{'PostgreSQL' if backend == 'postgresql' else 'SQLite'} through {wanted})"
        )
    if backend == "sqlite":
        directory = _sqlite_directory(parsed)
        if directory is not None and not directory.is_dir():
            raise StartFailure(
                f"the SQLite file {parsed.database} cannot be created: the directory "
                f"{directory} does not exist; create it (mkdir -p {directory}) or fix {VARIABLE}"
            )


def explain(exc: BaseException, settings: Settings) -> StartFailure | None:
    """The one-line failure ``exc`` stands for, or None when it is not a start-up failure."""
    url = make_url(settings.database_url)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return StartFailure(
                f"port {settings.port} on {settings.host} is already in use (another Handrail "
                "or another program); stop it, or set HANDRAIL_PORT to a free port"
            )
        if isinstance(cause, socket.gaierror):
            return StartFailure(
                f"unknown host {url.host!r} in {VARIABLE} ({cause.strerror}); fix the host name"
            )
        if isinstance(cause, ConnectionRefusedError):
            return StartFailure(
                f"PostgreSQL at {where} refused the connection (is it running?); start it, "
                f"or fix the host and port in {VARIABLE}"
            )
        sqlstate = getattr(cause, "sqlstate", None)
        if sqlstate == NO_DATABASE:
            return StartFailure(
                f"database {url.database!r} does not exist on PostgreSQL at {where}; create it "
                f"(createdb -h {url.host or 'localhost'} -p {url.port or 5432} {url.database}) "
                f"or fix {VARIABLE}"
            )
        if sqlstate in REFUSED_LOGIN:
            return StartFailure(
                f"PostgreSQL at {where} refused user {url.username!r}: {cause}; fix the user "
                f"or password in {VARIABLE}"
            )
        if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
            return StartFailure(
                f"cannot open the SQLite file {url.database}: {cause}; check that its "
                f"directory exists and is writable, or fix {VARIABLE}"
            )
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: SQLAlchemy's ``orig``, then causes and contexts."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _sqlite_directory(url: URL) -> Path | None:
    """The directory an SQLite file would be created in; None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser().parent
