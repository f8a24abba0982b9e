"""Files the bot shares (the review metrics' charts) shown as images in the local Slack page."""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, expect

from sandbox.testing import web_client
from tests.browser.sandbox_fixtures import World, command, open_page
from tests.browser.sandbox_fixtures import world as world  # the fixture, by name


async def charts_shared(world: World, channel: str) -> None:
    """Wait (bounded) until the live outbox worker has shared a message with files."""
    for _ in range(300):
        if any(m.files for m in world.sandbox.emulator.messages(channel)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no files were shared in {channel}")


async def test_stats_charts_show_as_images_in_the_dm(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """/handrail stats in the page: the three charts arrive in the DM and are drawn."""
    await open_page(page, world, "U0ALICE")
    await command(page, "/handrail stats ticket-triage")
    await expect(page.locator("#messages .message.ephemeral")).to_contain_text(
        "The charts of this window follow in your DM."
    )
    await charts_shared(world, "D0ALICE")
    await open_page(page, world, "U0ALICE", channel="D0ALICE")
    images = page.locator("#messages .message img.sk-file-image")
    await expect(images).to_have_count(3)
    await expect(page.locator("#messages .sk-file-title").first).to_have_text(
        "ticket-triage: handoffs and outcomes per day"
    )
    await expect(images.first).to_have_attribute(
        "alt", "ticket-triage: handoffs and outcomes per day: none"
    )
    await page.wait_for_function(
        "() => [...document.querySelectorAll('img.sk-file-image')]"
        ".every((img) => img.complete && img.naturalWidth === 800)"
    )
    assert not page_errors


async def test_an_upload_never_completed_is_not_served(page: Page, world: World) -> None:
    """Bytes uploaded but never shared stay invisible: the page's file route is 404."""
    emulator, token = world.sandbox.emulator, world.sandbox.settings.slack_bot_token
    assert token is not None
    slack = web_client(emulator, token=token.get_secret_value())
    got = await slack.files_getUploadURLExternal(filename="a.png", length=3)
    assert (await page.request.post(str(got["upload_url"]), data=b"abc")).status == 200
    answer = await page.request.get(f"{world.page_url}/files/{got['file_id']}")
    assert answer.status == 404
