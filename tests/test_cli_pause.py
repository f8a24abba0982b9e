"""``handrail pause`` and ``handrail resume``, run as a separate process beside a running server."""

from __future__ import annotations

import asyncio
import getpass
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import Services
from bot.settings import Settings
from store.models import AuditEntry
from tests.conftest import TEST_WORKFLOWS, bearer

Client = TestClient[Any, Any]


def handrail(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI on the test's database, as an operator on the same host would."""
    config = tmp_path / "cli-workflows.yml"
    config.write_text(yaml.safe_dump(TEST_WORKFLOWS))
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": settings.database_url,
        "HANDRAIL_CONFIG": str(config),
    }
    if settings.database_schema:
        env["HANDRAIL_DATABASE_SCHEMA"] = settings.database_schema
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def verdict(client: Client, token: str, run_id: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "tag", "confidence": 0.99},
        headers=bearer(token),
    )
    answer: dict[str, Any] = await response.json()
    return answer


async def test_cli_pause_stops_the_gate_of_a_running_server(
    client: Client, token: str, settings: Settings, tmp_path: Path
) -> None:
    """Once ``handrail pause`` has returned, the running server's gate denies."""
    run_id = str(
        (await (await client.post("/api/v1/runs", headers=bearer(token))).json())["run_id"]
    )
    assert (await verdict(client, token, run_id))["verdict"] != "deny"
    result = await asyncio.to_thread(
        handrail, settings, tmp_path, "pause", "ticket-triage", "--reason", "bad drafts"
    )
    assert result.returncode == 0, result.stderr
    assert "paused ticket-triage" in result.stdout
    answer = await verdict(client, token, run_id)  # the pause was committed when it returned
    assert answer["verdict"] == "deny"
    assert f"paused by cli:{getpass.getuser()}: bad drafts" in answer["reason"]


async def test_cli_resume_is_audited_with_the_os_user(
    client: Client, token: str, settings: Settings, tmp_path: Path, services: Services
) -> None:
    """``handrail resume`` lifts the pause and the audit log names ``cli:<os user>``."""
    assert handrail(settings, tmp_path, "pause", "ticket-triage").returncode == 0
    result = await asyncio.to_thread(handrail, settings, tmp_path, "resume", "ticket-triage")
    assert result.returncode == 0, result.stderr
    assert "resumed ticket-triage" in result.stdout
    async with services.readers() as db:
        entries = (
            await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("workflow.%"))
                .order_by(AuditEntry.id)
            )
        ).all()
    actor = f"cli:{getpass.getuser()}"
    assert [(e.action, e.actor) for e in entries] == [
        ("workflow.pause", actor),
        ("workflow.resume", actor),
    ]


async def test_cli_pause_redacts_a_secret_in_its_reason(
    client: Client, settings: Settings, tmp_path: Path, services: Services
) -> None:
    """``handrail pause --reason`` stores the reason with a pasted token redacted."""
    secret = "gh" + "p_FAKEfake0123456789abcdefABCDEF012345"
    result = await asyncio.to_thread(
        handrail, settings, tmp_path, "pause", "ticket-triage", "--reason", f"leaked {secret}"
    )
    assert result.returncode == 0, result.stderr
    async with services.readers() as db:
        [entry] = (await db.scalars(select(AuditEntry))).all()
    assert entry.details == {"reason": "leaked [REDACTED:github_token]"}


async def test_cli_pause_of_an_unknown_workflow_fails_clearly(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    """Pausing a workflow that is not configured exits 1 and names the known ones."""
    result = await asyncio.to_thread(handrail, settings, tmp_path, "pause", "nope")
    assert result.returncode == 1
    assert "no workflow named 'nope'" in result.stderr
    assert "ticket-triage" in result.stderr
