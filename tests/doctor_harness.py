"""A deployment for ``handrail doctor`` to examine: a workflows.yml, settings and the emulator.

``deployment`` writes the test workflows (changed as a test needs) beside the test's
database and points Slack at a running emulator, the way an operator's environment would.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.doctor.findings import Finding, Status
from bot.settings import Settings
from sandbox.workspace import DEFAULT_TOKEN
from tests.conftest import TEST_WORKFLOWS, Database
from tests.slack_harness import SIGNING_SECRET

Edit = Callable[[dict[str, Any]], None]


def write_workflows(tmp_path: Path, edit: Edit | None = None) -> Path:
    """The test workflows as a file, after ``edit`` changed them."""
    raw = copy.deepcopy(TEST_WORKFLOWS)
    if edit is not None:
        edit(raw["workflows"])
    path = tmp_path / "workflows.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def deployment(
    database: Database, tmp_path: Path, slack_api_url: str, **overrides: Any
) -> Settings:
    """Settings for HTTP mode against ``slack_api_url``; ``overrides`` by variable name."""
    values: dict[str, Any] = {
        "HANDRAIL_DATABASE_URL": database.url,
        "HANDRAIL_DATABASE_SCHEMA": database.schema,
        "HANDRAIL_CONFIG": tmp_path / "workflows.yml",
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        **overrides,
    }
    return Settings(**values)


def found(findings: list[Finding], check: str) -> Finding:
    """The one finding of ``check``; AssertionError naming the checks when there is none."""
    matching = [f for f in findings if f.check == check]
    assert len(matching) == 1, [f.check for f in findings]
    return matching[0]


def wrong(findings: list[Finding]) -> list[Finding]:
    """The findings that are not ok."""
    return [f for f in findings if f.status is not Status.OK]
