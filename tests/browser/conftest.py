"""A real browser for page tests: Debian's chromium driven by Playwright's async API.

One chromium runs for the whole session and each test gets a fresh context and page, so a
test costs a new tab, not a new browser. Playwright's objects belong to the event loop that
started them, so every test in this folder runs on the session's loop (the marker is added
below) and any async fixture a browser test uses that starts servers or holds connections
must say ``loop_scope="session"`` too (``serve_app`` and ``serve_directory`` are plain async
context managers, so calling them inside the test is always safe).

Browser tests are mandatory when ``CI=true`` or ``HANDRAIL_REQUIRE_BROWSER=1`` (as
``make check`` sets); a plain developer run skips them with a message when chromium is not
installed, as the PostgreSQL tests do when no server answers. No browser is ever downloaded:
``make check`` installs Debian's package.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright
from pytest_asyncio import is_async_test

CHROMIUM = Path(os.environ.get("HANDRAIL_TEST_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = (
    os.environ.get("CI") == "true" or os.environ.get("HANDRAIL_REQUIRE_BROWSER") == "1"
)
#: Quiet, offline, sandbox-free: chromium as a test instrument, not a user's browser.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every async test in this folder on the session loop, where the browser lives."""
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if _HERE in Path(str(item.path)).parents and is_async_test(item):
            item.add_marker(session_loop, append=False)


def _browser_unavailable(reason: str) -> None:
    message = f"no browser for the page tests ({reason})"
    if REQUIRE_BROWSER:
        pytest.fail(f"{message}; browser tests are mandatory here", pytrace=False)
    pytest.skip(f"{message}; install it with 'sudo apt-get install chromium' to run them")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium executable (skipped, or failed in CI, when it is not installed)."""
    if not CHROMIUM.exists():
        _browser_unavailable(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """One headless chromium for the whole session.

    Playwright gives it a fresh temporary profile and removes it on close.
    """
    async with async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(
                executable_path=chromium,
                args=CHROMIUM_ARGS,
            )
        except Error as exc:
            _browser_unavailable(f"{chromium} did not start: {exc.message.splitlines()[0]}")
        yield launched
        await launched.close()


class PageErrors(list[str]):
    """Uncaught exceptions and console errors a page raised while a test ran."""


@pytest.fixture
def page_errors() -> PageErrors:
    """What the test's page threw or logged as an error; ``page`` fills it."""
    return PageErrors()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, page_errors: PageErrors) -> AsyncIterator[Page]:
    """A new tab in a new browser context (no shared cookies or storage between tests)."""
    context = await browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(10_000)
    tab = await context.new_page()
    tab.on("pageerror", lambda error: page_errors.append(f"uncaught: {error}"))

    def _console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page_errors.append(f"console: {message.text}")

    tab.on("console", _console)
    yield tab
    await context.close()


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app on 127.0.0.1 on a free port; yields its base URL (no slash)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve_directory(root: Path) -> AsyncIterator[str]:
    """Serve the files under ``root`` as static files; yields the base URL (no slash)."""
    app = web.Application()
    app.router.add_static("/", root)
    async with serve_app(app) as url:
        yield url


#: The renderer's modules and its test harness page.
RENDER_ROOT = Path(__file__).parents[2] / "sandbox" / "web" / "static" / "render"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def render_url() -> AsyncIterator[str]:
    """The renderer's folder served over HTTP for the whole session (ES modules need it)."""
    async with serve_directory(RENDER_ROOT) as url:
        yield url


class RenderHarness:
    """The renderer's harness page (``render/harness.html``) in a test's tab.

    ``render`` draws a "message", "blocks", "view" or "mrkdwn" into ``#out`` with a context
    that knows alice, bob, owner, #reviews, #oncall and @support-team; what the renderer
    reports to ``ctx.onAction`` and ``ctx.onOpenThread`` is read back with ``actions`` and
    ``threads``.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.out = page.locator("#out")

    async def render(self, kind: str, value: Any, **context: Any) -> None:
        """Draw ``value`` with the renderer for ``kind``; ``context`` adds to the page's ctx."""
        await self.page.evaluate("([k, v, c]) => window.render(k, v, c)", [kind, value, context])

    async def render_soon(self, kind: str, value: Any) -> None:
        """Start drawing ``value`` and return at once; wait for the result with ``expect``.

        A renderer stuck in a loop then fails the waiting assertion instead of hanging.
        """
        await self.page.evaluate("([k, v]) => window.renderSoon(k, v, {})", [kind, value])

    async def actions(self) -> list[dict[str, Any]]:
        """Every action ``ctx.onAction`` received, oldest first."""
        return cast(list[dict[str, Any]], await self.page.evaluate("window.actions"))

    async def threads(self) -> list[str]:
        """Every ts ``ctx.onOpenThread`` received, oldest first."""
        return cast(list[str], await self.page.evaluate("window.threads"))

    async def hold_actions(self) -> None:
        """Make each ``ctx.onAction`` return a promise that stays pending until released."""
        await self.page.evaluate("window.holdActions = true")

    async def release_actions(self) -> None:
        await self.page.evaluate("window.releaseActions()")

    async def view_state(self) -> dict[str, Any]:
        """``collectViewState`` of the modal on the page."""
        return cast(dict[str, Any], await self.page.evaluate("window.collect()"))

    async def check_inputs(self) -> dict[str, str]:
        """``checkViewInputs`` of the modal on the page."""
        return cast(dict[str, str], await self.page.evaluate("window.check()"))

    async def show_errors(self, errors: dict[str, str]) -> None:
        """``showViewErrors`` on the modal on the page."""
        await self.page.evaluate("e => window.showErrors(e)", errors)

    async def evaluate(self, script: str) -> Any:
        return await self.page.evaluate(script)


@pytest_asyncio.fixture(loop_scope="session")
async def harness(
    page: Page, render_url: str, page_errors: PageErrors
) -> AsyncIterator[RenderHarness]:
    """The renderer harness, loaded and ready, in this test's tab.

    Afterwards nothing the renderer ran may have thrown (an uncaught error or a rejected
    promise in a click handler fails the test).
    """
    await page.goto(f"{render_url}/harness.html")
    await page.wait_for_function("window.ready === true")
    yield RenderHarness(page)
    thrown = [error for error in page_errors if error.startswith("uncaught")]
    assert not thrown, f"the renderer threw: {thrown}"
