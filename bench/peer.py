"""Handrail beside its closest self-hosted peer, awaithumans, on the paths an automation waits on.

Run: .venv/bin/python bench/peer.py [--seconds 10] [--rounds 3] [--decisions 20]
     [--store sqlite|postgres]

The peer is installed from PyPI into its own virtualenv under ``.bench-venvs/`` (reused when
present) and run as its docs say for production (``awaithumans serve``): bound to 127.0.0.1,
its store a temp SQLite file (or a scratch PostgreSQL database), an admin token for the
automation's calls. Handrail runs as ``handrail serve`` with its outbox worker posting to the
local Slack emulator, as in production. Both servers run for the whole benchmark and the load
alternates between them, round by round, so a machine busy with other work slows both alike.

- Opening reviews: 8 concurrent automations, each as fast as it can for ``--seconds``: a gate
  question that needs approval (``POST /api/v1/runs/{id}/gate``: the verdict step, the handoff
  and its Slack outbox row in one transaction, with a ``request_id`` as the client sends)
  against the peer's ``POST /api/tasks`` (with its required idempotency key; no notification
  channel, since its Slack sender cannot be pointed at a local Slack). Rate, p95, and each
  server's CPU per request (Handrail's includes its worker posting to Slack meanwhile, paced
  at Slack's one message a second per channel, so its backlog is reported, not awaited).
- Decisions, one process: the automation waits (Handrail's ``GET /api/v1/handoffs/{id}?wait=``,
  the peer's ``GET /api/tasks/{id}/poll``), a person decides (a signed Approve click through
  ``sandbox/driver.py``, the peer's ``POST /api/tasks/{id}/complete``); the time from the
  decision's request to the waiting call's answer, p50 and p95.

A figure, not a test: it never fails on a timing, and if the peer cannot be installed or
started it says so in one line and prints Handrail's figures alone.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ack_latency import approve_message, wait_until_up  # noqa: E402
from ingest import cpu_seconds  # noqa: E402
from support import POSTGRES_URL, free_port, percentile, postgres_schema  # noqa: E402

from sandbox.driver import SlackDriver  # noqa: E402
from sandbox.emulator import SlackEmulator  # noqa: E402
from sandbox.models import User  # noqa: E402
from sandbox.workspace import DEFAULT_TOKEN  # noqa: E402

PEER = ("awaithumans[server]==0.1.12", "psycopg[binary]")
"""The peer, and the PostgreSQL driver its migrations import but its extras do not list."""
PEER_VENV = ROOT / ".bench-venvs" / "awaithumans"
SECRET = "bench-signing-secret"
CHANNEL = "C0REVIEW"
REVIEWER = "U0REV001"
AUTOMATIONS = 8
DRAFT = "Your refund of 42 EUR is on its way; it should reach your card within five days."
WORKFLOWS_YML = f"""workflows:
  ticket-triage:
    review_channel: {CHANNEL}
    reviewers: [{REVIEWER}]
    admins: [U0OWNER]
    mode: review
    allowed_actions: [send_reply]
    require_approval: [send_reply]
"""
Call = Callable[[aiohttp.ClientSession, int], Awaitable[None]]


@dataclass
class Tally:
    """One server's requests across rounds: latencies (ms), wall and CPU seconds."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0

    def line(self, name: str) -> str:
        rate = len(self.latencies) / self.seconds
        cpu_ms = self.cpu / len(self.latencies) * 1000
        return (
            f"{name:<30}{rate:>9.0f}/s{percentile(self.latencies, 50):>9.1f}ms"
            f"{percentile(self.latencies, 95):>9.1f}ms{cpu_ms:>11.2f}ms{len(self.errors):>8}"
        )


# -- the servers -----------------------------------------------------------------------------


class Handrail:
    def __init__(self, workdir: Path, url: str, schema: str | None, api_url: str) -> None:
        (workdir / "workflows.yml").write_text(WORKFLOWS_YML)
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HANDRAIL_DATABASE_URL": url,
            "HANDRAIL_CONFIG": str(workdir / "workflows.yml"),
            "HANDRAIL_PORT": str(self.port),
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            **({"HANDRAIL_DATABASE_SCHEMA": schema} if schema else {}),
        }
        self.env.pop("SLACK_APP_TOKEN", None)

    def start(self) -> None:
        cli = [sys.executable, "-m", "bot.cli.main"]
        for command in (["db", "upgrade"], ["token", "create", "ticket-triage"]):
            created = subprocess.run(
                [*cli, *command], env=self.env, cwd=ROOT, check=True, capture_output=True, text=True
            )
        self.headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
        with (self.workdir / "handrail.log").open("wb") as log:
            self.process = subprocess.Popen([*cli, "serve"], env=self.env, cwd=ROOT, stderr=log)


class Peer:
    def __init__(self, workdir: Path, database_url: str | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        token = uuid.uuid4().hex
        self.headers = {"Authorization": f"Bearer {token}"}
        storage = (
            {"AWAITHUMANS_DATABASE_URL": database_url}
            if database_url
            else {"AWAITHUMANS_DB_PATH": str(workdir / "peer.db")}
        )
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "AWAITHUMANS_HOST": "127.0.0.1",
            "AWAITHUMANS_PUBLIC_URL": self.base,
            "AWAITHUMANS_ADMIN_API_TOKEN": token,
            "AWAITHUMANS_PAYLOAD_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AWAITHUMANS_ALLOW_EPHEMERAL_DB": "true",
            "AWAITHUMANS_LOG_LEVEL": "WARNING",
            **storage,
        }

    def start(self) -> None:
        """``awaithumans serve`` in an empty folder, so no stray ``.env`` is read."""
        command = [str(PEER_VENV / "bin" / "awaithumans"), "serve", "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def install_peer() -> None:
    """The peer in its own virtualenv, from PyPI; reused when already there."""
    if (PEER_VENV / "bin" / "awaithumans").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    pip = [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", *PEER]
    subprocess.run(pip, check=True, capture_output=True)


# -- load ------------------------------------------------------------------------------------


async def flood(
    base: str, headers: dict[str, str], seconds: float, call: Call
) -> tuple[list[float], list[str]]:
    """``AUTOMATIONS`` concurrent loops of ``call`` for ``seconds``: ms per success, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def automation(session: aiohttp.ClientSession, number: int) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                await call(session, number)
            except (RuntimeError, aiohttp.ClientError) as error:  # counted; the load goes on
                errors.append(str(error))
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=AUTOMATIONS)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as session:
        await asyncio.gather(*(automation(session, n) for n in range(AUTOMATIONS)))
    return latencies, errors


async def expect(response: aiohttp.ClientResponse, status: int) -> Any:
    if response.status != status:
        raise RuntimeError(f"{response.url} answered {response.status}: {await response.text()}")
    return await response.json()


async def handrail_gate(session: aiohttp.ClientSession, run_id: str) -> str:
    body = {"action": "send_reply", "draft": DRAFT, "confidence": 0.9}
    body["request_id"] = uuid.uuid4().hex
    async with session.post(f"/api/v1/runs/{run_id}/gate", json=body) as response:
        return str((await expect(response, 200))["handoff_id"])


async def peer_task(session: aiohttp.ClientSession) -> str:
    body = {
        "task": "Approve the reply to the customer",
        "payload": {"action": "send_reply", "draft": DRAFT, "confidence": 0.9},
        "payload_schema": {},
        "response_schema": {},
        "timeout_seconds": 3600,
        "idempotency_key": uuid.uuid4().hex,
    }
    async with session.post("/api/tasks", json=body) as response:
        return str((await expect(response, 201))["id"])


async def round_of(server: Handrail | Peer, tally: Tally, seconds: float, call: Call) -> None:
    cpu = cpu_seconds(server.process.pid)
    started = time.perf_counter()
    latencies, errors = await flood(server.base, server.headers, seconds, call)
    tally.seconds += time.perf_counter() - started
    tally.latencies += latencies
    tally.errors += errors
    tally.cpu += cpu_seconds(server.process.pid) - cpu


async def decision_latency(
    base: str, headers: dict[str, str], open_case: Any, wait_path: Any, decide: Any
) -> float:
    """Open a case, start the waiting call, decide; ms from decision to the wait's answer."""
    async with aiohttp.ClientSession(base, headers=headers) as session:
        case = await open_case(session)
        waiting = asyncio.ensure_future(session.get(wait_path(case)))
        await asyncio.sleep(0.3)  # the wait is in place, the message posted
        started = time.perf_counter()
        await decide(case)
        response = await waiting
        answered = time.perf_counter()
        body = await response.json()
        if body.get("status") not in ("approved", "completed"):
            raise RuntimeError(f"the waiting call answered {body}")
        return (answered - started) * 1000


# -- the run ---------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="handrail-bench-peer-"))
    users = [User(REVIEWER, "reviewer"), User("U0OWNER", "owner")]
    emulator = SlackEmulator(users=users, post_rate=None)
    await emulator.start()
    schema = f"handrail_bench_{uuid.uuid4().hex[:8]}" if args.store == "postgres" else None
    peer_db = f"awaithumans_bench_{uuid.uuid4().hex[:8]}" if schema else None
    if schema:
        await postgres_schema(schema, create=True)
        await postgres_database(peer_db, create=True)
    url = POSTGRES_URL if schema else f"sqlite+aiosqlite:///{workdir / 'handrail.db'}"
    handrail = Handrail(workdir, url, schema, emulator.api_url)
    peer: Peer | None = None
    try:
        await asyncio.to_thread(handrail.start)
        await wait_until_up(handrail.base)
        try:
            await asyncio.to_thread(install_peer)
            peer = Peer(workdir, peer_database_url(peer_db) if peer_db else None)
            await asyncio.to_thread(peer.start)
            await wait_until_up_at(f"{peer.base}/api/health", peer.process)
        except Exception as error:  # any failure of the peer: one line, then Handrail alone
            print(f"peer: not measured ({type(error).__name__}: {str(error)[:160]})")
            peer = None
        await measure(args, emulator, handrail, peer)
    finally:
        for server in (handrail, peer):
            if server is not None and hasattr(server, "process"):
                server.process.terminate()
                await asyncio.to_thread(server.process.wait, 10)
        await emulator.stop()
        if schema:
            await postgres_schema(schema, create=False)
            await postgres_database(peer_db, create=False)
        shutil.rmtree(workdir, ignore_errors=True)


async def measure(
    args: argparse.Namespace, emulator: SlackEmulator, handrail: Handrail, peer: Peer | None
) -> None:
    async with aiohttp.ClientSession(handrail.base, headers=handrail.headers) as session:
        runs = []
        for _ in range(AUTOMATIONS):
            async with session.post("/api/v1/runs", json={}) as response:
                runs.append((await expect(response, response.status))["run_id"])

    async def gate(session: aiohttp.ClientSession, number: int) -> None:
        await handrail_gate(session, runs[number])

    async def task(session: aiohttp.ClientSession, number: int) -> None:
        await peer_task(session)

    await flood(handrail.base, handrail.headers, 1.0, gate)  # warm-up, not counted
    if peer is not None:
        await flood(peer.base, peer.headers, 1.0, task)
    ours, theirs = Tally(), Tally()
    for _ in range(args.rounds):
        await round_of(handrail, ours, args.seconds, gate)
        if peer is not None:
            await round_of(peer, theirs, args.seconds, task)

    def open_gate(session: aiohttp.ClientSession) -> Awaitable[str]:
        return handrail_gate(session, runs[0])

    ours_d, theirs_d = [], []
    async with SlackDriver(handrail.base, SECRET, emulator) as driver:

        async def click(handoff_id: str) -> None:
            response = await driver.click(
                action_id="handoff-approve",
                user=REVIEWER,
                channel=CHANNEL,
                message_ts="1.000001",
                message=approve_message(handoff_id),
            )
            if response.status != 200:
                raise RuntimeError(f"the click answered {response.status}: {response.text}")

        async def complete(task_id: str) -> None:
            assert peer is not None
            async with aiohttp.ClientSession(peer.base, headers=peer.headers) as session:
                body = {"response": {"approved": True}, "completed_via_channel": "slack"}
                async with session.post(f"/api/tasks/{task_id}/complete", json=body) as response:
                    await expect(response, 200)

        for _ in range(args.decisions):
            ours_d.append(
                await decision_latency(
                    handrail.base,
                    handrail.headers,
                    open_gate,
                    lambda h: f"/api/v1/handoffs/{h}?wait=30",
                    click,
                )
            )
            if peer is not None:
                theirs_d.append(
                    await decision_latency(
                        peer.base,
                        peer.headers,
                        peer_task,
                        lambda t: f"/api/tasks/{t}/poll?timeout=30",
                        complete,
                    )
                )
    report(args, ours, theirs if peer else None, ours_d, theirs_d)
    if ours.errors:
        log = (handrail.workdir / "handrail.log").read_text(errors="replace").splitlines()
        causes = sorted({line[:150] for line in log if "Error" in line})
        print("Handrail's log says: " + "; ".join(causes[:3]))
    print(f"Slack messages posted by the end: {len(emulator.calls_to('chat.postMessage')):,}")


def report(
    args: argparse.Namespace,
    ours: Tally,
    theirs: Tally | None,
    ours_d: list[float],
    theirs_d: list[float],
) -> None:
    store = args.store
    print(
        f"\n== opening reviews: {AUTOMATIONS} automations, {args.rounds} x {args.seconds:g} s "
        f"rounds each, alternating; store {store}"
    )
    print(f"{'':<30}{'rate':>11}{'p50':>11}{'p95':>11}{'CPU/request':>13}{'errors':>8}")
    print(ours.line("Handrail gate -> handoff"))
    if theirs is not None:
        print(theirs.line("awaithumans task create"))
        ratio = (len(ours.latencies) / ours.seconds) / (len(theirs.latencies) / theirs.seconds)
        p95 = percentile(ours.latencies, 95) / percentile(theirs.latencies, 95)
        print(f"{'Handrail / peer':<30}{ratio:>10.2f}x{'':>11}{p95:>10.2f}x")
    print(f"\n== decision latency, one process: {args.decisions} decisions each, alternating")
    print(f"{'':<30}{'p50':>11}{'p95':>11}")
    print(
        f"{'Handrail click -> wait returns':<30}{percentile(ours_d, 50):>9.1f}ms"
        f"{percentile(ours_d, 95):>9.1f}ms"
    )
    if theirs_d:
        print(
            f"{'awaithumans complete -> poll':<30}{percentile(theirs_d, 50):>9.1f}ms"
            f"{percentile(theirs_d, 95):>9.1f}ms"
        )
    print("(wall times on a shared machine: compare the columns of one run, not runs)")


async def wait_until_up_at(url: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            if process.poll() is not None:
                raise RuntimeError(f"the peer's server exited with {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the peer's server at {url} did not come up in 60 s")


def peer_database_url(name: str) -> str:
    """The scratch database's URL in the form the peer's docs give (libpq style)."""
    server = POSTGRES_URL.removeprefix("postgresql+asyncpg://").split("/", 1)[0]
    return f"postgresql://{server}/{name}"


async def postgres_database(name: str | None, *, create: bool) -> None:
    """A scratch database for the peer, which keeps its tables in the default schema."""
    import asyncpg

    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        verb = "CREATE DATABASE" if create else "DROP DATABASE IF EXISTS"
        await connection.execute(f'{verb} "{name}"')
    finally:
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decisions", type=int, default=20)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    asyncio.run(main(parser.parse_args()))
