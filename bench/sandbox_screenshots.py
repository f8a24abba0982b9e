"""Screenshots of the local Slack page for the docs: a handoff, the Edit modal, /trace, an alert.

Run: .venv/bin/python bench/sandbox_screenshots.py [--out docs/images]

Starts the sandbox as ``handrail sandbox`` does (with workflows.example.yml, on a fresh
SQLite file), plays a short review session in Debian's chromium and saves small PNGs. Kept
out of the test run on purpose, so CI never rewrites files; run it by hand when the page
changes. It waits on the page (Playwright), never on the clock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import Settings  # noqa: E402
from tests.browser.sandbox_fixtures import (  # noqa: E402
    DRAFT,
    ONCALL_CHANNEL,
    World,
    command,
    message_with,
    open_page,
    running_world,
)
from workflows.config.brief import load_config  # noqa: E402

CHROMIUM = os.environ.get("HANDRAIL_TEST_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1000, "height": 760}


async def session(page: Page, world: World, out: Path) -> None:
    await open_page(page, world, "U0ALICE")
    run_id, _ = await world.open_review()
    handoff = message_with(page, DRAFT)
    await expect(handoff.get_by_role("button", name="Approve")).to_be_visible()
    await page.screenshot(path=out / "sandbox-handoff.png")

    await handoff.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("textarea")).to_have_value(DRAFT)
    await page.screenshot(path=out / "sandbox-edit-modal.png")
    await dialog.locator(".sk-modal-close").click()
    await expect(dialog).to_have_count(0)

    await command(page, f"/trace {run_id}")
    await expect(page.locator("#messages .message.ephemeral")).to_contain_text(run_id)
    await page.screenshot(path=out / "sandbox-trace.png")

    await world.fail_repeatedly(5)
    await world.alert_tick()
    await open_page(page, world, "U0ALICE", channel=ONCALL_CHANNEL)
    await expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
    await page.screenshot(path=out / "sandbox-alert.png")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    config = load_config(ROOT / "workflows.example.yml")
    with tempfile.TemporaryDirectory(prefix="handrail-screens-") as scratch:
        settings = Settings(
            HANDRAIL_DATABASE_URL=f"sqlite+aiosqlite:///{Path(scratch) / 'handrail.db'}",
            HANDRAIL_HOST="127.0.0.1",
            HANDRAIL_SCHEDULER=False,
            HANDRAIL_OUTBOX_WORKER=True,
        ).model_copy(update={"port": 0})
        async with running_world(settings, config) as world, async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
            await session(page, world, args.out)
            await browser.close()
    for path in sorted(args.out.glob("sandbox-*.png")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    asyncio.run(main())
