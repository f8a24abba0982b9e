"""``handrail serve`` as a real process, for the tests that kill it.

The server runs exactly as deployed (``python -m bot.cli.main serve``) on the test's database,
with Slack pointed at an emulator running in the test. Each workflow of ``fleet`` has its
own review channel: the outbox paces posts per channel (about one a second, as Slack
asks), so spreading handoffs over channels keeps a drain of a few dozen messages short.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from sandbox.workspace import DEFAULT_TOKEN
from tests.conftest import Database
from tests.slack_harness import SIGNING_SECRET

ROOT = Path(__file__).resolve().parent.parent


def fleet(count: int) -> dict[str, Any]:
    """``count`` review workflows (``wf-0``…), each with its own review channel."""
    return {
        "workflows": {
            f"wf-{n}": {
                "review_channel": f"C0REV{n}",
                "reviewers": ["U0ALICE", "U0BOB"],
                "admins": ["U0OWNER"],
                "mode": "review",
                "allowed_actions": ["send_reply"],
                "require_approval": ["send_reply"],
            }
            for n in range(count)
        }
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(
    database: Database, config: dict[str, Any], tmp_path: Path, *, port: int, slack_api_url: str
) -> dict[str, str]:
    path = tmp_path / "fleet.yml"
    path.write_text(yaml.safe_dump(config))
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": database.url,
        "HANDRAIL_CONFIG": str(path),
        "HANDRAIL_PORT": str(port),
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "HANDRAIL_OUTBOX_WORKER": "true",  # the test run turns it off for in-process apps
    }
    if database.schema is not None:
        env["HANDRAIL_DATABASE_SCHEMA"] = database.schema
    env.pop("SLACK_APP_TOKEN", None)
    return env


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A server process (``args`` after ``serve``); killed on the way out if it still runs."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


async def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Bounded: 60 seconds (a loaded machine imports slowly, and ``--workers`` spawns)."""
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {await _tail(log)}")
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"the server did not come up: {await _tail(log)}")


async def _tail(log: Path) -> str:
    return (await asyncio.to_thread(log.read_text))[-2000:]
