"""The App Home tab in the local Slack page: opening it sends ``app_home_opened`` to the real
Handrail, the published tab is drawn live, and its buttons decide like the review message's."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.sandbox_fixtures import DRAFT, World, message_with, open_page
from tests.browser.sandbox_fixtures import world as world  # the fixture, by name


async def test_the_home_tab_lists_a_pending_review_and_approves_it(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """Home shows the review with its buttons; Approve there empties the tab and updates
    the message in #review."""
    await open_page(page, world, "U0ALICE")
    _, handoff_id = await world.open_review()
    await expect(message_with(page, DRAFT)).to_be_visible()

    await page.locator('#dm-list button[data-channel="home"]').click()
    tab = page.locator("#messages .home-tab")
    await expect(tab).to_contain_text("Your pending reviews")
    await expect(tab).to_contain_text(handoff_id)
    await tab.get_by_role("button", name="Approve").click()

    await expect(tab).to_contain_text("Nothing is waiting for you.")
    await page.locator('#channel-list button[data-channel="C0REVIEW"]').click()
    await expect(message_with(page, DRAFT)).to_contain_text("Approved by")
    assert not page_errors
