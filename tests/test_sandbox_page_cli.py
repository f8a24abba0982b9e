"""``handrail sandbox`` as a person starts it: a real process, real ports, a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sandbox_env(tmp_path: Path, *, api_port: int, page_port: int) -> dict[str, str]:
    shutil.copy(REPO / "workflows.example.yml", tmp_path / "workflows.yml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        HANDRAIL_CONFIG=str(tmp_path / "workflows.yml"),
        HANDRAIL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'handrail.db'}",
        HANDRAIL_PORT=str(api_port),
        HANDRAIL_SANDBOX_PORT=str(page_port),
    )
    return env


def start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "sandbox"],
        env=env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """A started ``handrail sandbox`` (one for the module): (page URL, what it printed)."""
    tmp_path = tmp_path_factory.mktemp("sandbox")
    page_port = free_port()
    process = start(sandbox_env(tmp_path, api_port=free_port(), page_port=page_port), tmp_path)
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:  # ends when the process does: a failed start fails the test
        lines.append(line)
        if "Stop with Ctrl-C" in line:
            break
    try:
        yield f"http://127.0.0.1:{page_port}", lines
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_the_banner_says_where_to_click(running: tuple[str, list[str]]) -> None:
    """The start-up banner names the page's URL and how to make a token."""
    page_url, lines = running
    text = "".join(lines)
    assert f"Open the local Slack:   {page_url}" in text
    assert "handrail token create ticket-triage" in text


def test_the_generated_slack_secrets_are_never_printed(running: tuple[str, list[str]]) -> None:
    """Neither the bot token nor a signing secret (64 hex digits) appears in the output."""
    _, lines = running
    text = "".join(lines)
    assert "xoxb-" not in text
    assert re.search(r"[0-9a-f]{64}", text) is None


def test_the_page_serves_the_seeded_people(running: tuple[str, list[str]]) -> None:
    """The page server answers with the people workflows.yml names, and a stranger."""
    page_url, _ = running
    with urllib.request.urlopen(f"{page_url}/api/people", timeout=10) as response:  # noqa: S310 - a local URL
        people = {p["id"] for p in json.loads(response.read())}
    assert {"U0ALICE", "U0BOB", "U0OWNER", "U0STRANGER"} <= people


def test_a_port_in_use_ends_in_one_line(tmp_path: Path) -> None:
    """When the page's port is taken, start-up stops with one line naming the variable."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = sandbox_env(tmp_path, api_port=free_port(), page_port=taken)
        env["HANDRAIL_SCHEDULER"] = "false"
        process = start(env, tmp_path)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines()[-1] == (
        f"error: the sandbox page's port 127.0.0.1:{taken} is already in use "
        "(another Handrail?); stop what holds it or set HANDRAIL_SANDBOX_PORT"
    )
    assert "Traceback" not in err


def test_with_demo_the_page_has_a_handoff_to_decide(tmp_path: Path) -> None:
    """``handrail sandbox --demo`` (what ``make run`` starts) plays the demo beside it."""
    page_port = free_port()
    env = sandbox_env(tmp_path, api_port=free_port(), page_port=page_port)
    env["HANDRAIL_SCHEDULER"] = "false"
    env["HANDRAIL_OUTBOX_WORKER"] = "true"  # the tests' own default is off; a person's is on
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "sandbox", "--demo"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said: list[str] = []
    try:
        for line in process.stderr:  # ends when the process does: a failed start fails the test
            said.append(line)
            if "waits for a reviewer in C0REVIEW" in line:
                break
        review = review_channel_when_posted(page_port)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    text = "".join(said)
    assert "A demo automation is playing example cases now" in text
    assert "demo | [draft-reply] ticket-4812: asked the gate to send_reply: review" in text
    assert "Traceback" not in text
    assert review, "the demo's first handoff reached the review channel on the page"


def review_channel_when_posted(page_port: int, *, within: float = 30.0) -> list[object]:
    """The review channel's messages as the page sees them, once the outbox has posted one."""
    url = f"http://127.0.0.1:{page_port}/api/state?user=U0ALICE"
    deadline = time.monotonic() + within
    while True:
        with urllib.request.urlopen(url, timeout=10) as response:
            messages: list[object] = json.loads(response.read())["messages"]["C0REVIEW"]
        if messages or time.monotonic() > deadline:
            return messages
        time.sleep(
            0.1
        )  # waiting on another process's outbox; the outcome, not a timing, is checked
