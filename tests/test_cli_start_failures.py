"""Start-up and database failures end in one line naming the fix, for every command."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from store.engine import create_engine, create_sessions
from tests.conftest import POSTGRES_URL, run_blocking
from workflows import credentials
from workflows.clock import system_clock

ROOT = Path(__file__).parent.parent
COMMANDS = [
    ("serve",),
    ("db", "upgrade"),
    ("token", "list"),
    ("pause", "all"),
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    shutil.copy(ROOT / "workflows.example.yml", tmp_path / "workflows.yml")
    return {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'handrail.db'}",
        "HANDRAIL_CONFIG": str(tmp_path / "workflows.yml"),
    }


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def handrail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The last line of stderr, after checking there is no traceback and the status is 1."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines, "nothing was said"
    assert lines[-1].startswith("error: ")
    return lines[-1]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unreachable_postgresql_is_one_line_for_every_command(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    """Connection refused: every command says PostgreSQL refused and to start it."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{unused_port()}/test"
    line = one_line(handrail({**env, "HANDRAIL_DATABASE_URL": url}, *command))
    assert "refused the connection (is it running?); start it" in line


def test_an_unknown_host_is_named(env: dict[str, str]) -> None:
    """A host name that does not resolve is named, with the fix."""
    url = "postgresql+asyncpg://postgres@no-such-host.invalid:5432/test"
    line = one_line(handrail({**env, "HANDRAIL_DATABASE_URL": url}, "token", "list"))
    assert "unknown host 'no-such-host.invalid' in HANDRAIL_DATABASE_URL" in line


@pytest.mark.postgres
def test_a_missing_database_says_how_to_create_it(
    env: dict[str, str], postgres_schema: str
) -> None:
    """A database that does not exist on a running PostgreSQL is named, with createdb."""
    url = make_url(POSTGRES_URL).set(database="handrail_no_such_db")
    env = {**env, "HANDRAIL_DATABASE_URL": url.render_as_string(hide_password=False)}
    line = one_line(handrail(env, "db", "upgrade"))
    assert "database 'handrail_no_such_db' does not exist" in line
    assert "createdb" in line


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2"])
def test_a_postgresql_url_without_asyncpg_says_which_to_use(
    env: dict[str, str], scheme: str
) -> None:
    """``postgresql://`` and other drivers are refused with the scheme to write instead."""
    url = f"{scheme}://postgres@127.0.0.1:5432/test"
    line = one_line(handrail({**env, "HANDRAIL_DATABASE_URL": url}, "token", "list"))
    assert f"starts with {scheme}://; use postgresql+asyncpg://" in line


def test_an_sqlite_file_in_a_missing_directory_names_the_directory(
    env: dict[str, str], tmp_path: Path
) -> None:
    """An SQLite path whose directory does not exist says which one to create."""
    missing = tmp_path / "no" / "such"
    url = f"sqlite+aiosqlite:///{missing / 'handrail.db'}"
    line = one_line(handrail({**env, "HANDRAIL_DATABASE_URL": url}, "serve"))
    assert f"the directory {missing} does not exist; create it (mkdir -p {missing})" in line
    assert not missing.exists()


def test_a_port_in_use_is_one_line(env: dict[str, str], taken_port: int) -> None:
    """``serve`` on a port another program holds says so, and how to pick another."""
    line = one_line(handrail({**env, "HANDRAIL_PORT": str(taken_port)}, "serve"))
    assert f"port {taken_port} on 127.0.0.1 is already in use" in line
    assert "set HANDRAIL_PORT to a free port" in line


def test_a_closed_pipe_ends_quietly_as_unix_tools_do(env: dict[str, str]) -> None:
    """``handrail token list | head -1`` stops without a traceback, exit status 141."""
    assert handrail(env, "db", "upgrade").returncode == 0
    run_blocking(lambda: create_tokens(env["HANDRAIL_DATABASE_URL"], count=1000))
    listing = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "token", "list"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert listing.stdout is not None
    first = listing.stdout.readline()
    listing.stdout.close()  # as head does after its one line
    assert listing.stderr is not None
    with listing.stderr:
        stderr = listing.stderr.read()
    listing.wait(timeout=60)
    assert first.startswith(b"PREFIX")
    assert b"Traceback" not in stderr
    assert b"BrokenPipeError" not in stderr
    assert listing.returncode == 141


async def create_tokens(url: str, *, count: int) -> None:
    """More tokens than a pipe's buffer holds lines of, in one transaction."""
    engine = create_engine(url)
    sessions = create_sessions(engine)
    async with sessions() as db, db.begin():
        for _ in range(count):
            await credentials.create_token(
                db, workflow="ticket-triage", expires_in=None, label="pipe", now=system_clock()
            )
    await engine.dispose()
