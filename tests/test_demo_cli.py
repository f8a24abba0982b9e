"""``handrail demo`` on the command line: a server that is not up is one line naming the fix."""

from __future__ import annotations

import os
import shutil
import socket
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


def test_a_server_that_is_not_up_is_one_line_naming_the_fix(env: dict[str, str]) -> None:
    """With nothing listening, the demo exits 1 with one line: start it with `make run`."""
    url = f"http://127.0.0.1:{unused_port()}"
    result = handrail(env, "demo", "--once", "--url", url)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: Handrail is not answering at {url} (")
    assert "start it with `make run`" in line


def test_the_address_defaults_to_the_port_serve_listens_on(env: dict[str, str]) -> None:
    """Without --url the demo looks where ``handrail serve`` would listen (HANDRAIL_PORT)."""
    port = unused_port()
    result = handrail({**env, "HANDRAIL_PORT": str(port)}, "demo", "--once")
    assert f"at http://127.0.0.1:{port} (" in result.stderr


def test_a_wait_that_is_not_positive_is_refused(env: dict[str, str]) -> None:
    """``--wait 0`` is refused on one line before anything is played."""
    result = handrail(env, "demo", "--wait", "0")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "'0' is not a positive number of seconds" in line


def test_the_command_offers_exactly_the_scenarios_the_runner_plays() -> None:
    """The scenario names on the command line are the runner's, in the order it plays them."""
    from bot.demo.command import SCENARIO_NAMES
    from bot.demo.runner import SCENARIOS

    assert tuple(SCENARIOS) == SCENARIO_NAMES


def test_the_cli_loads_without_the_client() -> None:
    """``handrail --help`` works where only the server is installed, without handrail_client."""
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'handrail_client':\n"
        "            raise ModuleNotFoundError(name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import runpy; sys.argv = ['handrail', '--help']\n"
        "runpy.run_module('bot.cli.main', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "demo" in done.stdout
