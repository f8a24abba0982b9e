"""``handrail brief diff``, run as a user runs it, against the test's store (both backends)."""

from __future__ import annotations

import copy
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import Services
from bot.settings import Settings
from store.models import AuditEntry
from tests.conftest import TEST_WORKFLOWS, bearer

Client = TestClient[Any, Any]

#: The tests' clock stands in January 2026; the command reads the real one.
WHOLE_HISTORY = "3000d"


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The command's environment: the test's store and the test brief as the current one."""
    (tmp_path / "workflows.yml").write_text(yaml.safe_dump(TEST_WORKFLOWS), encoding="utf-8")
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": settings.database_url,
        "HANDRAIL_CONFIG": str(tmp_path / "workflows.yml"),
    }
    if settings.database_schema:
        env["HANDRAIL_DATABASE_SCHEMA"] = settings.database_schema
    return env


def write_brief(tmp_path: Path, **changes: Any) -> Path:
    data = copy.deepcopy(TEST_WORKFLOWS)
    data["workflows"]["ticket-triage"].update(changes)
    path = tmp_path / "proposed.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def handrail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def ask_reviews(client: Client, token: str, count: int) -> list[str]:
    """``count`` confident send_reply questions, each in a run of its own; their run IDs."""
    run_ids = []
    for _ in range(count):
        response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
        run_id = str((await response.json())["run_id"])
        body = {"action": "send_reply", "draft": "Your order ships today", "confidence": 0.95}
        response = await client.post(
            f"/api/v1/runs/{run_id}/gate", json=body, headers=bearer(token)
        )
        assert response.status == 200
        run_ids.append(run_id)
    return run_ids


def test_a_brief_that_does_not_validate_lists_every_problem(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Two bad fields: both are named, nothing is evaluated, and the exit status is 1."""
    brief = write_brief(tmp_path, mode="yolo", confidence_threshold=3)
    result = handrail(env, "brief", "diff", str(brief))
    assert result.returncode == 1
    assert "2 problem(s); nothing was evaluated" in result.stderr
    assert "field 'mode'" in result.stderr
    assert "field 'confidence_threshold'" in result.stderr
    assert result.stdout == ""


def test_a_missing_brief_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    """A path with no file is reported as such, without a traceback."""
    result = handrail(env, "brief", "diff", str(tmp_path / "nope.yml"))
    assert result.returncode == 1
    assert "file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_workflow_is_named(env: dict[str, str], tmp_path: Path) -> None:
    """``--workflow`` must be one the proposed brief names."""
    brief = write_brief(tmp_path)
    result = handrail(env, "brief", "diff", str(brief), "--workflow", "payroll")
    assert result.returncode == 1
    assert "the proposed brief has no workflow 'payroll'" in result.stderr


async def test_the_report_names_changes_with_example_runs(
    client: Client, token: str, env: dict[str, str], tmp_path: Path
) -> None:
    """The text report shows review -> allow with run IDs and the lighter review load."""
    run_ids = await ask_reviews(client, token, 2)
    brief = write_brief(tmp_path, mode="auto", require_approval=["refund"])
    result = handrail(env, "brief", "diff", str(brief), "--since", WHOLE_HISTORY)
    assert result.returncode == 0, result.stderr
    assert f"review -> allow: 2 (e.g. {run_ids[0]}, {run_ids[1]})" in result.stdout
    assert "review load: 2 -> 0 case(s)" in result.stdout
    assert "spread evenly over 2" in result.stdout
    assert result.stderr == ""  # no progress drawn when stderr is not a terminal


async def test_json_report_counts_questions_per_workflow(
    client: Client, token: str, env: dict[str, str], tmp_path: Path
) -> None:
    """``--json --workflow`` prints one document with that workflow's figures and a digest."""
    await ask_reviews(client, token, 3)
    brief = write_brief(tmp_path, mode="auto", require_approval=["refund"])
    result = handrail(
        env, "brief", "diff", str(brief), "--since", WHOLE_HISTORY, "--workflow", "ticket-triage",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    (workflow,) = document["workflows"]
    assert (workflow["workflow"], workflow["questions"]) == ("ticket-triage", 3)
    assert workflow["changes"][0]["count"] == 3
    assert len(document["digest"]) == 64


async def test_record_keeps_the_backtest_in_the_audit_log(
    client: Client, token: str, env: dict[str, str], tmp_path: Path, services: Services
) -> None:
    """``--record`` appends a policy.backtest entry per workflow with the report's digest."""
    await ask_reviews(client, token, 1)
    brief = write_brief(tmp_path, mode="auto")
    result = handrail(
        env, "brief", "diff", str(brief), "--since", WHOLE_HISTORY, "--json", "--record",
        "--workflow", "ticket-triage",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "recorded in the audit log" in result.stderr
    async with services.sessions() as db:
        entries = (
            (await db.execute(select(AuditEntry).where(AuditEntry.action == "policy.backtest")))
            .scalars()
            .all()
        )
    (entry,) = entries
    assert entry.details is not None
    assert entry.details["report_digest"] == json.loads(result.stdout)["digest"]
    assert (entry.details["mode"], entry.details["questions"]) == ("auto", 1)


async def test_progress_is_drawn_when_stderr_is_a_terminal(
    client: Client, token: str, env: dict[str, str], tmp_path: Path
) -> None:
    """On a terminal, stderr shows how many questions of which workflow were re-decided."""
    await ask_reviews(client, token, 1)
    brief = write_brief(tmp_path)
    status, drawn = on_a_terminal(env, "brief", "diff", str(brief), "--since", WHOLE_HISTORY)
    assert status == 0
    assert b"\rticket-triage: 1 question(s) re-decided" in drawn


def on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, bytes]:
    """Run ``handrail`` with stderr on a pseudo-terminal; its exit status and what it drew."""
    main, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        drawn = b""
        while chunk := _read_available(main):
            drawn += chunk
    finally:
        os.close(main)
    return result.returncode, drawn


def _read_available(fd: int) -> bytes:
    """What the terminal holds; an empty result once the writer closed and it is drained."""
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the other side is closed and nothing is left
        return b""
