"""Reviewing handoffs in the local Slack page, in a real browser, against the real Handrail.

The automation's side goes through Handrail's HTTP API with a token; the person's side is
the page: every click, modal and command reaches Handrail signed as Slack signs it, and
every change comes back over the page's event stream, with no reload.
"""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, expect

from tests.browser.sandbox_fixtures import DRAFT, World, message_with, open_page, switch_user
from tests.browser.sandbox_fixtures import world as world  # the fixture, by name

EDITED = "Hi Sam, your parcel arrives on Friday before noon. Best, Support"


async def test_a_handoff_appears_in_the_review_channel(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """A handoff the automation opens appears live in #review with its three buttons."""
    await open_page(page, world, "U0ALICE")
    await world.open_review()
    handoff = message_with(page, DRAFT)
    for label in ("Approve", "Edit", "Reject"):
        await expect(handoff.get_by_role("button", name=label)).to_be_visible()
    assert not page_errors


async def test_approve_updates_the_message_in_place_and_reaches_the_automation(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """Approve: the same message loses its buttons, and the automation's long poll returns."""
    await open_page(page, world, "U0ALICE")
    _, handoff_id = await world.open_review()
    handoff = message_with(page, DRAFT)
    ts = await handoff.get_attribute("data-ts")
    poll = asyncio.create_task(world.decision(handoff_id))
    await handoff.get_by_role("button", name="Approve").click()
    updated = page.locator(f'#messages .message[data-ts="{ts}"]')
    await expect(updated).to_contain_text("Approved by")
    await expect(updated.get_by_role("button", name="Approve")).to_have_count(0)
    decision = await poll
    assert (decision["status"], decision["decision"]["reviewer"]) == ("approved", "U0ALICE")
    assert not page_errors


async def test_edit_opens_the_modal_and_the_edited_text_reaches_the_automation(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """Edit opens a modal with the draft; the text submitted is what the automation gets."""
    await open_page(page, world, "U0BOB")
    _, handoff_id = await world.open_review()
    await message_with(page, DRAFT).get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    box = dialog.locator("textarea")
    await expect(box).to_have_value(DRAFT)
    await box.fill(EDITED)
    await dialog.locator(".sk-modal-submit").click()
    await expect(dialog).to_have_count(0)
    decision = await world.decision(handoff_id)
    assert (decision["status"], decision["decision"]["final_text"]) == ("edited", EDITED)
    assert not page_errors


async def test_reject_with_an_empty_reason_is_stopped_in_the_page(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """Reject with nothing typed: the page says the field is required, as Slack's client does."""
    await open_page(page, world, "U0ALICE")
    _, handoff_id = await world.open_review()
    await message_with(page, DRAFT).get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog")
    await dialog.locator(".sk-modal-submit").click()
    await expect(dialog.locator(".sk-input-error").first).to_have_text(
        "Please fill out this field."
    )
    assert (await world.decision(handoff_id, wait=0))["status"] == "pending"
    assert not page_errors


async def test_reject_with_a_blank_reason_shows_handrails_field_error(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """Reject with only spaces reaches Handrail, whose error is shown on the reason field."""
    await open_page(page, world, "U0BOB")
    _, handoff_id = await world.open_review()
    await message_with(page, DRAFT).get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog")
    await dialog.locator("textarea").first.fill("   ")
    await dialog.locator(".sk-modal-submit").click()
    await expect(dialog.locator(".sk-input-error").first).to_have_text(
        "Say why in a line or two: the owner reads this."
    )
    await expect(dialog).to_be_visible()
    assert (await world.decision(handoff_id, wait=0))["status"] == "pending"
    assert not page_errors


async def test_a_strangers_approve_is_refused_privately_and_changes_nothing(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """A stranger's Approve shows Handrail's refusal to them alone; the handoff stays open."""
    await open_page(page, world, "U0STRANGER")
    _, handoff_id = await world.open_review()
    handoff = message_with(page, DRAFT)
    await handoff.get_by_role("button", name="Approve").click()
    refusal = page.locator("#messages .message.ephemeral").filter(has_text="Permission denied")
    await expect(refusal).to_be_visible()
    await expect(handoff.get_by_role("button", name="Approve")).to_be_visible()
    assert (await world.decision(handoff_id, wait=0))["status"] == "pending"
    await switch_user(page, "U0ALICE")
    await expect(message_with(page, DRAFT)).to_be_visible()
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(0)
    assert not page_errors


async def test_the_page_reconnects_after_its_stream_drops(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """When the event stream drops, the page reconnects and shows what happened meanwhile."""
    await open_page(page, world, "U0ALICE")
    world.sandbox.hub.drop_all()
    await world.open_review()
    await expect(message_with(page, DRAFT)).to_be_visible()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    assert not page_errors
