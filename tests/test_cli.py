"""The ``handrail`` command, run as a user runs it: a real process on a real SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from store.engine import create_engine
from store.migrate import upgrade_database
from tests.conftest import POSTGRES_URL, drop_schema, run_blocking

ROOT = Path(__file__).parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def cli_env(tmp_path: Path) -> dict[str, str]:
    """A migrated SQLite file and the example workflows.yml, as after ``db upgrade``."""
    shutil.copy(ROOT / "workflows.example.yml", tmp_path / "workflows.yml")
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'handrail.db'}",
        "HANDRAIL_CONFIG": str(tmp_path / "workflows.yml"),
    }
    url = env["HANDRAIL_DATABASE_URL"]
    run_blocking(lambda: _migrate(url))
    return env


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade_database(engine)
    await engine.dispose()


def handrail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_token_create_prints_only_the_token(env: dict[str, str]) -> None:
    """``token create`` prints the token alone on stdout and the details on stderr."""
    result = handrail(env, "token", "create", "ticket-triage", "--scope", "runs:write")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("hr_")
    assert "runs:write" in result.stderr


def test_token_list_never_shows_secrets(env: dict[str, str]) -> None:
    """``token list`` shows the prefix and state but not the secret."""
    token = handrail(env, "token", "create", "ticket-triage").stdout.strip()
    listing = handrail(env, "token", "list").stdout
    prefix, secret = token.removeprefix("hr_").split("_", 1)
    assert prefix in listing
    assert secret not in listing
    assert "active" in listing


def test_token_revoke_marks_it_revoked(env: dict[str, str]) -> None:
    """A revoked token shows as revoked in the listing."""
    token = handrail(env, "token", "create", "ticket-triage").stdout.strip()
    prefix = token.removeprefix("hr_").split("_")[0]
    assert handrail(env, "token", "revoke", prefix).returncode == 0
    assert "revoked" in handrail(env, "token", "list").stdout


def test_token_for_unknown_workflow_fails_clearly(env: dict[str, str]) -> None:
    """Creating a token for a workflow not in workflows.yml fails with its name."""
    result = handrail(env, "token", "create", "nope")
    assert result.returncode == 1
    assert "nope" in result.stderr
    assert result.stdout == ""


def test_bad_config_stops_with_every_problem(env: dict[str, str]) -> None:
    """A bad workflows.yml stops the command with one line per problem."""
    Path(env["HANDRAIL_CONFIG"]).write_text(
        "workflows:\n  triage:\n    mode: yolo\n    confidence_threshold: 3\n"
    )
    result = handrail(env, "db", "upgrade")
    assert result.returncode == 2
    assert "workflow 'triage', field 'mode'" in result.stderr
    assert "workflow 'triage', field 'confidence_threshold'" in result.stderr


def test_bad_workflow_name_is_reported_beside_bad_fields(env: dict[str, str]) -> None:
    """A bad workflow name is not hidden by another workflow's bad field: both are listed."""
    Path(env["HANDRAIL_CONFIG"]).write_text(
        "workflows:\n  bad name!: {}\n  triage:\n    mode: yolo\n"
    )
    result = handrail(env, "db", "upgrade")
    assert result.returncode == 2
    assert "2 problem(s)" in result.stderr
    assert "workflow 'bad name!', its name: " in result.stderr
    assert "workflow 'triage', field 'mode'" in result.stderr


def test_unset_callback_secret_stops_serve_but_not_the_other_commands(
    env: dict[str, str],
) -> None:
    """A callback whose secret variable is unset stops ``serve``, naming the variable only;
    ``pause all`` and the other commands still work from a shell without the secret."""
    config = Path(env["HANDRAIL_CONFIG"])
    config.write_text(
        config.read_text()
        .replace(
            "    # callback_url: https://automation.internal/handrail",
            "    callback_url: https://automation.internal/handrail",
        )
        .replace(
            "    # callback_secret_env: TICKET_TRIAGE_CALLBACK_SECRET",
            "    callback_secret_env: TICKET_TRIAGE_CALLBACK_SECRET",
        )
    )
    env.pop("TICKET_TRIAGE_CALLBACK_SECRET", None)
    env["HANDRAIL_PORT"] = str(_free_port())
    refused = handrail(env, "serve")
    assert refused.returncode == 2
    assert "workflow 'ticket-triage', field 'callback_secret_env'" in refused.stderr
    assert "TICKET_TRIAGE_CALLBACK_SECRET is not set" in refused.stderr

    paused = handrail(env, "pause", "all", "--reason", "incident")
    assert paused.returncode == 0, paused.stderr


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "'abc' is not a duration"),
        ("0s", "'0s' must be longer than zero"),
        ("100000000d", "'100000000d' is longer than 36500 days"),
        ("9" * 30 + "d", "is longer than 36500 days"),
    ],
)
def test_bad_expiry_is_one_line_naming_the_option(
    env: dict[str, str], value: str, problem: str
) -> None:
    """A bad ``--expires-in`` is refused on one line naming the option, with status 2."""
    result = handrail(env, "token", "create", "ticket-triage", "--expires-in", value)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("handrail token create: argument --expires-in: ")
    assert problem in line


def test_bad_environment_variable_is_named_without_a_traceback(env: dict[str, str]) -> None:
    """A bad HANDRAIL_PORT stops ``serve`` with status 2 and a line naming the variable."""
    result = handrail({**env, "HANDRAIL_PORT": "abc", "HANDRAIL_TIMEZONE": "Mars/Base"}, "serve")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert problems == [
        "  - HANDRAIL_PORT: Input should be a valid integer, unable to parse string as an "
        "integer (got 'abc')",
        "  - HANDRAIL_TIMEZONE: unknown time zone 'Mars/Base'; use an IANA name such as "
        "Europe/Berlin or UTC",
    ]


def test_trace_of_unknown_run_says_so(env: dict[str, str]) -> None:
    """Tracing an unknown run ID fails with the ID in the message."""
    result = handrail(env, "trace", "run_missing")
    assert result.returncode == 1
    assert "run_missing" in result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_two_workers_answers_on_one_port(env: dict[str, str]) -> None:
    """``serve --workers 2`` migrates once and both processes serve the same port, each
    logging in the same format (the second is started fresh, so it sets logging up too)."""
    import time
    import urllib.request

    env = {**env, "HANDRAIL_PORT": str(_free_port())}
    log = Path(env["HANDRAIL_CONFIG"]).with_name("serve.log")
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", "--workers", "2"],
            env=env,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{env['HANDRAIL_PORT']}/healthz"
    try:
        answered = 0
        deadline = time.monotonic() + 60
        while answered < 20 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    answered += response.status == 200
            except OSError:
                time.sleep(0.2)
        assert answered == 20
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) >= 1  # the second worker (plus multiprocessing's helper)
        assert handrail(env, "token", "create", "ticket-triage").returncode == 0
        warning = " WARNING handrail: Slack delivery is off"
        while log.read_text().count(warning) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert log.read_text().count(warning) == 2, log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.postgres
def test_db_upgrade_creates_a_missing_postgres_schema(
    env: dict[str, str], postgres_schema: str
) -> None:
    """``HANDRAIL_DATABASE_SCHEMA`` naming a new schema: upgrade creates it and migrates it."""
    schema = f"{postgres_schema}_new"
    env = {**env, "HANDRAIL_DATABASE_URL": POSTGRES_URL, "HANDRAIL_DATABASE_SCHEMA": schema}
    try:
        result = handrail(env, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        token = handrail(env, "token", "create", "ticket-triage")
        assert token.returncode == 0, token.stderr
        assert token.stdout.startswith("hr_")
    finally:
        run_blocking(lambda: drop_schema(schema))


def test_a_token_can_be_revoked_by_its_whole_value_and_shows_its_label(
    env: dict[str, str],
) -> None:
    """After a leak a person holds the whole token: revoking with it works, and the list
    shows the label given at creation next to the revoked state."""
    token = handrail(env, "token", "create", "ticket-triage", "--label", "nightly import")
    assert token.returncode == 0, token.stderr
    revoked = handrail(env, "token", "revoke", token.stdout.strip())
    assert revoked.returncode == 0, revoked.stderr
    (row,) = handrail(env, "token", "list").stdout.splitlines()[1:]
    assert "revoked" in row
    assert row.endswith("nightly import")


def test_serve_refuses_a_quorum_larger_than_the_reviewers(env: dict[str, str]) -> None:
    """Start-up stops with one line naming the field and the fix."""
    config = Path(env["HANDRAIL_CONFIG"])
    config.write_text(
        config.read_text().replace(
            "    require_approval:",
            "    approvals: {send_reply: {required: 9}}\n    require_approval:",
            1,
        )
    )
    env["HANDRAIL_PORT"] = str(_free_port())
    refused = handrail(env, "serve")
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert (
        "workflow 'ticket-triage', field 'approvals.send_reply.required': needs 9 distinct "
        "approvers" in refused.stderr
    )
