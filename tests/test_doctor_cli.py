"""``handrail doctor`` as a process, and its short form when ``handrail serve`` starts."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.doctor.startup import check_at_start
from sandbox.testing import running_emulator
from tests.conftest import Database
from tests.doctor_harness import deployment, write_workflows
from tests.serve_process import free_port, serve_env, serving, wait_until_up
from tests.slack_harness import SIGNING_SECRET
from workflows.config.brief import load_config

ROOT = Path(__file__).resolve().parent.parent


async def doctor(env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``handrail doctor`` beside the test's event loop (which serves the emulator)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        "doctor",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def doctor_env(database: Database, tmp_path: Path, slack_api_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": database.url,
        "HANDRAIL_CONFIG": str(write_workflows(tmp_path)),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
    }
    for name in ("SLACK_APP_TOKEN", "HANDRAIL_PUBLIC_URL", "HANDRAIL_DATABASE_SCHEMA"):
        env.pop(name, None)
    if database.schema is not None:
        env["HANDRAIL_DATABASE_SCHEMA"] = database.schema
    return env


async def test_the_command_prints_the_checklist_and_exits_0_when_all_is_well(
    database: Database, tmp_path: Path
) -> None:
    """A healthy deployment: every line ok, a summary, exit status 0."""
    async with running_emulator() as emulator:
        status, out, err = await doctor(doctor_env(database, tmp_path, emulator.api_url))
    assert (status, err) == (0, ""), out
    assert re.fullmatch(r"all \d+ checks passed", out.splitlines()[-1])
    assert "ok       bot token: works, as @handrail" in out


async def test_an_unreachable_slack_exits_1_with_a_line_not_a_traceback(
    database: Database, tmp_path: Path
) -> None:
    """Nobody listening at SLACK_API_URL is a problem line with its fix, and exit status 1."""
    silent = f"http://127.0.0.1:{free_port()}/api/"
    status, out, err = await doctor(doctor_env(database, tmp_path, silent))
    assert status == 1
    assert "Traceback" not in out + err
    assert f"problem  slack: Slack at {silent} cannot be reached" in out
    assert "         fix: check this host's network" in out


async def test_start_up_logs_each_problem_on_one_line_and_asks_nobody_about_people(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The short form checks token, scopes and channels; what is wrong is one warning line."""
    path = write_workflows(tmp_path)
    async with running_emulator() as emulator:
        emulator.archive("C0ONCALL")
        settings = deployment(database, tmp_path, emulator.api_url)
        with caplog.at_level(logging.WARNING, logger="handrail.doctor"):
            findings = await check_at_start(settings, load_config(path))
        asked = {call.method for call in emulator.calls}
    assert asked == {"auth.test", "conversations.info"}
    assert len(findings) == 4  # token, scopes, two channels
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith("doctor problem: channel C0ONCALL: #oncall is archived")
    assert "; fix: unarchive #oncall" in line
    assert "\n" not in line


async def test_start_up_waits_for_slack_no_longer_than_its_budget(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A Slack that holds its answer costs start-up the budget and one warning, then it goes on."""
    path = write_workflows(tmp_path)
    async with running_emulator() as emulator:
        emulator.inject("auth.test", "timeout", hold=30)
        settings = deployment(database, tmp_path, emulator.api_url)
        with caplog.at_level(logging.WARNING, logger="handrail.doctor"):
            findings = await check_at_start(settings, load_config(path), budget=0.2)
    assert findings == []
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith("doctor: Slack did not finish the start-up checks within 0.2 s")


#: One workflow whose review channel the emulator archives in the serve tests below.
ONE_REVIEWED_WORKFLOW = {
    "workflows": {
        "triage": {
            "review_channel": "C0REVIEW",
            "reviewers": ["U0ALICE"],
            "allowed_actions": ["send_reply"],
            "require_approval": ["send_reply"],
        }
    }
}


async def test_serve_starts_and_logs_what_the_start_up_check_found(
    database: Database, tmp_path: Path
) -> None:
    """An archived review channel does not stop ``handrail serve``; the log says what to fix."""
    config = ONE_REVIEWED_WORKFLOW
    port = free_port()
    log = tmp_path / "serve.log"
    async with running_emulator() as emulator:
        emulator.archive("C0REVIEW")
        env = serve_env(database, config, tmp_path, port=port, slack_api_url=emulator.api_url)
        with serving(env, log) as process:
            await wait_until_up(f"http://127.0.0.1:{port}", process, log)
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/healthz") as response,
            ):
                assert response.status == 200
    lines = log.read_text().splitlines()
    assert any("doctor problem: channel C0REVIEW: #review is archived" in line for line in lines)


async def test_serve_with_workers_checks_once_for_all_of_them(
    database: Database, tmp_path: Path
) -> None:
    """``serve --workers 2`` logs what the start-up check found once, not once per worker."""
    config = ONE_REVIEWED_WORKFLOW
    port = free_port()
    log = tmp_path / "serve.log"
    async with running_emulator() as emulator:
        emulator.archive("C0REVIEW")
        env = serve_env(database, config, tmp_path, port=port, slack_api_url=emulator.api_url)
        with serving(env, log, "--workers", "2") as process:
            # Two workers spawn and import beside the supervisor: give them a minute.
            await wait_until_up(f"http://127.0.0.1:{port}", process, log)
            process.terminate()
            process.wait(timeout=20)
        asked = len(emulator.calls_to("auth.test"))
    found = [line for line in log.read_text().splitlines() if "doctor problem" in line]
    assert (asked, len(found)) == (1, 1), found
