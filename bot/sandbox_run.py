"""``handrail sandbox``: Handrail, a local Slack and its page, in one process.

The Slack emulator is seeded from workflows.yml; Handrail is the same app ``serve`` runs,
its Slack settings replaced by the emulator's URL and a bot token and signing secret made
up for this start (random, held in memory, never printed or logged); the page at
``http://127.0.0.1:8090`` lets a person be any of the seeded users and act as in Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from bot.app import build_app, build_services
from bot.services import Services
from bot.settings import Settings
from sandbox.driver import SlackDriver
from sandbox.emulator import SlackEmulator
from sandbox.scopes import manifest_scopes
from sandbox.web.seed import Seed, seed_from_config
from sandbox.web.server import HUB, build_page_app
from sandbox.web.stream import Hub
from workflows.clock import Clock, system_clock
from workflows.config.brief import HandrailConfig, load_config
from workflows.errors import HandrailError

DEFAULT_PAGE_PORT = 8090
PAGE_HOST = "127.0.0.1"
#: Slack shows the person an error when an app has not acknowledged within three seconds.
SLACK_ACK_BUDGET = 3.0
log = logging.getLogger("handrail.sandbox")


def page_port_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """``HANDRAIL_SANDBOX_PORT``, or 8090; a bad value is a one-line error."""
    raw = environ.get("HANDRAIL_SANDBOX_PORT", str(DEFAULT_PAGE_PORT))
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise HandrailError(f"HANDRAIL_SANDBOX_PORT: expected a port 1-65535 (got {raw!r})")
    return int(raw)


def sandbox_settings(settings: Settings, *, api_url: str, token: str, secret: str) -> Settings:
    """``settings`` with Slack pointed at the emulator (Socket Mode off)."""
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(token),
            "slack_signing_secret": SecretStr(secret),
            "slack_app_token": None,
            "slack_api_url": api_url,
        }
    )


def banner(*, page_url: str, api_url: str, settings: Settings, demo: bool = False) -> str:
    """Where to click, what to run: the one block printed at start."""
    workflow = "ticket-triage"
    playing = [
        "  A demo automation is playing example cases now: decide them on the page",
        "  (Approve, Edit, Reject) and watch it act on your decisions here.",
        "",
    ]
    return "\n".join(
        [
            "",
            "  Handrail is running with a local Slack (no Slack credentials are set).",
            "",
            f"    Open the local Slack:   {page_url}",
            f"    Handrail's API:         {api_url}",
            "",
            *(playing if demo else []),
            "  Give it work as an automation would: make a token, then ask the gate",
            f"    TOKEN=$(.venv/bin/handrail token create {workflow})",
            "    (the next steps, with curl, are in docs/sandbox.md; or run `handrail demo`)",
            "",
            f"  Data is kept in {settings.database_url}. Stop with Ctrl-C.",
            "  To use a real Slack workspace instead, set SLACK_BOT_TOKEN and",
            "  SLACK_SIGNING_SECRET and run `make run` again.",
            "",
        ]
    )


def _bind_error(error: OSError, *, what: str, host: str, port: int, variable: str) -> HandrailError:
    if error.errno == errno.EADDRINUSE:
        reason = "is already in use (another Handrail?)"
    else:
        reason = f"cannot be opened ({error.strerror or error})"
    return HandrailError(
        f"{what} port {host}:{port} {reason}; stop what holds it or set {variable}"
    )


async def _start_site(
    runner: web.AppRunner, *, what: str, host: str, port: int, variable: str
) -> str:
    """Bind ``runner`` and return its URL (port 0: whichever port was free)."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        raise _bind_error(error, what=what, host=host, port=port, variable=variable) from None
    bound_host, bound_port = runner.addresses[-1][:2]
    return f"http://{bound_host}:{bound_port}"


MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
"""The app's manifest: the local Slack grants its scopes, as a real install would."""


@dataclass
class LocalSlack:
    """A running sandbox: the emulator, Handrail on it, the driver and the page."""

    emulator: SlackEmulator
    driver: SlackDriver
    seed: Seed
    services: Services
    settings: Settings
    handrail_url: str
    page_url: str
    hub: Hub
    """The page's event streams (``drop_all`` plays a network drop)."""


@asynccontextmanager
async def local_slack(
    settings: Settings,
    *,
    config: HandrailConfig,
    page_port: int,
    clock: Clock = system_clock,
    ack_budget: float = SLACK_ACK_BUDGET,
    post_rate: float | None = 1.0,
) -> AsyncIterator[LocalSlack]:
    """The seeded emulator, Handrail wired to it (fresh token and secret) and the page.

    ``handrail sandbox`` serves it until interrupted; the browser tests and benchmarks use
    it as it is, on free ports (``HANDRAIL_PORT``/``page_port`` 0).
    """
    seed = seed_from_config(config)
    token = "xoxb-sandbox-" + secrets.token_hex(16)
    secret = secrets.token_hex(32)
    emulator = SlackEmulator(
        tokens=[token],
        users=seed.users,
        channels=seed.channels,
        usergroups=seed.usergroups,
        post_rate=post_rate,
        # Installed without the repository's manifest: every scope, as before.
        strict=MANIFEST.is_file(),
        scopes=manifest_scopes(MANIFEST) if MANIFEST.is_file() else None,
    )
    await emulator.start(PAGE_HOST, 0)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(emulator.stop)
        for person in seed.people.values():
            emulator.workspace.open_dm(person.id)
        wired = sandbox_settings(settings, api_url=emulator.api_url, token=token, secret=secret)
        services = build_services(wired, config=config, clock=clock, environ=os.environ)
        handrail = web.AppRunner(
            build_app(wired, services=services), access_log=None, shutdown_timeout=2.0
        )
        stack.push_async_callback(handrail.cleanup)
        try:
            await handrail.setup()
        except OSError as error:  # the database cannot be reached or opened
            raise HandrailError(
                f"Handrail could not open its database ({error}); check HANDRAIL_DATABASE_URL"
            ) from None
        handrail_url = await _start_site(
            handrail, what="Handrail's", host=wired.host, port=wired.port, variable="HANDRAIL_PORT"
        )
        driver = SlackDriver(handrail_url, secret, emulator, timeout=ack_budget)
        stack.push_async_callback(driver.close)
        page_app = build_page_app(driver=driver, seed=seed)
        page = web.AppRunner(page_app, access_log=None)
        stack.push_async_callback(page.cleanup)
        await page.setup()
        page_url = await _start_site(
            page,
            what="the sandbox page's",
            host=PAGE_HOST,
            port=page_port,
            variable="HANDRAIL_SANDBOX_PORT",
        )
        yield LocalSlack(
            emulator, driver, seed, services, wired, handrail_url, page_url, page_app[HUB]
        )


async def run_sandbox(settings: Settings, *, page_port: int, demo: bool = False) -> int:
    """Start everything, print the banner, serve until interrupted.

    With ``demo``, the demo automation plays beside it, so the page has cases to decide
    from the first second (``make run`` asks for it).
    """
    config = load_config(settings.config_path, environ=os.environ)
    async with local_slack(settings, config=config, page_port=page_port) as running:
        print(
            banner(
                page_url=running.page_url,
                api_url=running.handrail_url,
                settings=running.settings,
                demo=demo,
            ),
            file=sys.stderr,
        )
        playing = asyncio.create_task(_play_demo(running)) if demo else None
        try:
            await _until_interrupted()
        finally:
            if playing is not None:
                playing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await playing
    return 0


async def _play_demo(running: LocalSlack) -> None:
    """The demo against this Handrail, each line it says prefixed; a failure is one line.

    The sandbox goes on serving whatever happens to the demo: it is something to look at,
    not part of Handrail.
    """

    def say(line: str) -> None:
        print(f"demo | {line}", file=sys.stderr, flush=True)

    try:
        from bot.demo.runner import run_demo

        await run_demo(running.services, url=running.handrail_url, say=say)
    except HandrailError as refused:
        say(f"not playing: {refused.message}")
    except ModuleNotFoundError as missing:
        say(f"not playing: {missing.name} is not installed (`pip install -e ./client`)")


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("stopping the sandbox")
