"""Running Handrail as an operator does: real ``handrail`` processes on a real SQLite file.

JSON logs with an access log that keeps secrets out, one-line refusals against a schema
that is behind or ahead, and ``/metrics`` summed across ``serve --workers 2``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.test_cli import _free_port, cli_env, handrail

#: The newest migration, the revision ``db upgrade`` leaves a store at.
HEAD_REVISION = max(
    path.name[:4]
    for path in (Path(__file__).parents[1] / "store/migrations/versions").glob("0*.py")
)

WORKER_FILE = re.compile(r"^histogram_(\d+)\.db$")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def get(port: int, path: str, **headers: str) -> tuple[int, str]:
    """One GET on a new connection (so SO_REUSEPORT picks a worker each time)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (http only)
        return response.status, response.read().decode()


def _set_revision(env: dict[str, str], revision: str) -> None:
    path = env["HANDRAIL_DATABASE_URL"].split("///", 1)[1]
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        db.commit()


def test_a_command_against_a_schema_behind_says_to_upgrade(env: dict[str, str]) -> None:
    """Only ``serve`` and ``db upgrade`` migrate: ``token list`` on an old schema stops with
    one line naming ``handrail db upgrade``, and after it works."""
    _set_revision(env, "0003")
    result = handrail(env, "token", "list")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "run `handrail db upgrade`" in result.stderr
    _set_revision(env, HEAD_REVISION)  # as it was: every migration ran, only the stamp moved
    assert handrail(env, "token", "list").returncode == 0


def test_no_command_runs_against_a_newer_schema(env: dict[str, str]) -> None:
    """A schema written by a newer Handrail stops every command, ``db upgrade`` included,
    with one line saying to upgrade Handrail."""
    _set_revision(env, "9999")
    for command in (("token", "list"), ("db", "upgrade")):
        result = handrail(env, *command)
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1
        assert "upgrade Handrail" in result.stderr


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[int, Path]]:
    """``handrail serve`` in the background; yields its port once it answers, and its log."""
    port = _free_port()
    env = {**env, "HANDRAIL_PORT": str(port)}
    log = Path(env["HANDRAIL_CONFIG"]).with_name(f"serve-{port}.log")
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", *args], env=env, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get(port, "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        yield port, log
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_json_logs_say_where_it_listens_and_keep_query_strings_out(
    env: dict[str, str],
) -> None:
    """With ``HANDRAIL_LOG_FORMAT=json`` every line is a JSON object; the start says
    "listening on", and the access log names method, path, status and duration but never
    the query string or the Authorization header."""
    env = {**env, "HANDRAIL_LOG_FORMAT": "json"}
    with serving(env) as (port, log):
        status, _ = get(
            port, "/healthz?token=hr_leak_in_query", Authorization="Bearer hr_leak_in_header"
        )
        assert status == 200
        deadline = time.monotonic() + 10
        while "/healthz" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    records = [json.loads(line) for line in log.read_text().splitlines() if line]
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(record["message"].startswith("listening on http://") for record in records)
    access = [record for record in records if record["logger"] == "handrail.access"]
    assert {"method": "GET", "path": "/healthz", "status": 200}.items() <= access[-1].items()
    assert isinstance(access[-1]["duration_ms"], float)
    assert "hr_leak" not in log.read_text()


def test_log_level_warning_leaves_out_the_access_log(env: dict[str, str]) -> None:
    """``HANDRAIL_LOG_LEVEL=warning`` keeps warnings and drops the INFO access lines."""
    env = {**env, "HANDRAIL_LOG_LEVEL": "warning"}
    with serving(env) as (port, log):
        get(port, "/healthz")
        time.sleep(0.5)
    text = log.read_text()
    assert "WARNING handrail: Slack delivery is off" in text
    assert "/healthz" not in text
    assert "listening on" not in text


def _metric(body: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(name))


def test_metrics_are_summed_across_two_workers(env: dict[str, str], tmp_path: Path) -> None:
    """Under ``serve --workers 2`` a scrape counts the requests both workers served, and
    the database-read gauge is reported once, not once per worker."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"left from an earlier start")
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with serving(env, "--workers", "2") as (port, _log):
        assert not (shared / "counter_1.db").exists()  # cleaned at start
        sent = 0
        deadline = time.monotonic() + 60
        workers: set[str] = set()
        while (len(workers) < 2 or sent < 40) and time.monotonic() < deadline:
            get(port, "/healthz")
            sent += 1
            workers = {m.group(1) for p in shared.iterdir() if (m := WORKER_FILE.match(p.name))}
        assert len(workers) == 2, "SO_REUSEPORT never gave the second worker a request"
        for _ in range(4):  # whichever worker answers the scrape, the totals agree
            _, body = get(port, "/metrics")
            served = _metric(
                body, 'handrail_http_request_duration_seconds_count{method="GET",route="/healthz"'
            )
            assert served == sent + 1  # the start-up probe of ``serving`` too
            pending = [
                line
                for line in body.splitlines()
                if line.startswith('handrail_handoffs_pending{workflow="ticket-triage"}')
            ]
            assert pending == ['handrail_handoffs_pending{workflow="ticket-triage"} 0.0']
