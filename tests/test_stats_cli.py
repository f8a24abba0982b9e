"""``handrail stats`` and ``handrail prompt note``, run as a user runs them, on a SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A migrated SQLite store, as the server would have left it: only serve migrates."""
    shutil.copy(ROOT / "workflows.example.yml", tmp_path / "workflows.yml")
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'handrail.db'}",
        "HANDRAIL_CONFIG": str(tmp_path / "workflows.yml"),
    }
    assert handrail(env, "db", "upgrade").returncode == 0
    return env


def handrail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stats_of_an_empty_workflow_print_a_table(env: dict[str, str]) -> None:
    """With nothing recorded, the table shows zeros and every rate says not enough data."""
    result = handrail(env, "stats", "ticket-triage", "--since", "7d")
    assert result.returncode == 0, result.stderr
    assert "gate questions: 0" in result.stdout
    assert "not enough data (0 of 0)" in result.stdout


def test_stats_as_json_are_machine_readable(env: dict[str, str]) -> None:
    """``--json --by action`` prints one JSON document with the split named."""
    result = handrail(env, "stats", "ticket-triage", "--json", "--by", "action")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["workflow"], document["by"]) == ("ticket-triage", "action")


def test_suggest_says_when_there_is_nothing_to_suggest(env: dict[str, str]) -> None:
    """``--suggest`` without evidence says no threshold is suggested."""
    result = handrail(env, "stats", "ticket-triage", "--suggest")
    assert result.stdout.startswith("No threshold to suggest")


def test_stats_of_an_unknown_workflow_fail_in_one_line(env: dict[str, str]) -> None:
    """An unknown workflow is one line on stderr naming the known ones, no traceback."""
    result = handrail(env, "stats", "nope")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "ticket-triage" in result.stderr


def test_a_bad_window_fails_in_one_line(env: dict[str, str]) -> None:
    """``--since soon`` is refused by the argument parser with how to write a duration."""
    result = handrail(env, "stats", "ticket-triage", "--since", "soon")
    assert result.returncode == 2
    assert "30s, 15m, 2h or 7d" in result.stderr


def test_prompt_note_is_listed_in_the_stats(env: dict[str, str]) -> None:
    """A note added by ``prompt note`` is kept with its reason, and a second one is refused."""
    noted = handrail(env, "prompt", "note", "ticket-triage", "v7", "warmer tone")
    assert noted.returncode == 0, noted.stderr
    assert "warmer tone" in noted.stdout
    again = handrail(env, "prompt", "note", "ticket-triage", "v7", "colder tone")
    assert again.returncode == 1
    assert "already has a note" in again.stderr
    notes = json.loads(handrail(env, "stats", "ticket-triage", "--json").stdout)
    assert notes["prompt_versions"]["notes"][0]["reason"] == "warmer tone"


def test_html_report_is_written_whole(env: dict[str, str], tmp_path: Path) -> None:
    """``--html FILE`` writes one page with the three charts embedded and says where."""
    target = tmp_path / "report.html"
    result = handrail(env, "stats", "ticket-triage", "--html", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {target}\n"
    assert target.read_text().count('src="data:image/png;base64,') == 3
    assert not list(tmp_path.glob(".handrail-stats-*"))


def test_html_report_into_a_missing_folder_fails_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A folder that does not exist is one line naming the file, and nothing is written."""
    target = tmp_path / "nope" / "report.html"
    result = handrail(env, "stats", "ticket-triage", "--html", str(target))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"cannot write {target}" in result.stderr
    assert not target.parent.exists()
