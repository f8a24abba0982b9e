"""Whole messages drawn by the renderer, including Handrail's own handoff message."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from handlers.blocks import handoff_message
from handlers.ids import ActionId
from tests.browser.conftest import RenderHarness
from tests.test_blocks import make_view

WARNING = "could not be shown as Slack would; raw JSON below"


def handoff() -> dict[str, Any]:
    """A pending low-confidence handoff with a draft, as Handrail posts it."""
    view = make_view(
        kind="low_confidence",
        confidence=0.62,
        threshold=0.8,
        draft="Hi Sam, your order <1234> shipped & arrives Monday.",
    )
    built = handoff_message(view)
    return {"type": "message", "bot_id": "B0BOT", "ts": "1714559880.000100", **built.as_kwargs()}


def text_message(text: str = "hello", **more: Any) -> dict[str, Any]:
    return {"type": "message", "user": "U0ALICE", "ts": "1714559880.000100", "text": text, **more}


async def test_handoff_message_shows_header_reason_and_draft(harness: RenderHarness) -> None:
    """Handrail's handoff shows its header, the reason it is here and the draft as written."""
    await harness.render("message", handoff())
    await expect(harness.out.locator(".sk-header")).to_have_text("Low confidence · ticket-triage")
    await expect(harness.out).to_contain_text("Why it is here")
    await expect(harness.out).to_contain_text("confidence 0.62 < 0.8")
    draft = harness.out.locator("pre")
    await expect(draft).to_have_text("Hi Sam, your order <1234> shipped & arrives Monday.")


async def test_handoff_message_offers_approve_edit_reject(harness: RenderHarness) -> None:
    """A pending handoff offers Approve (green), Edit and Reject (red)."""
    await harness.render("message", handoff())
    buttons = harness.out.locator(".sk-actions button")
    await expect(buttons).to_have_text(["Approve", "Edit", "Reject"])
    await expect(buttons.first).to_have_class("sk-button sk-primary")
    await expect(buttons.last).to_have_class("sk-button sk-danger")


async def test_handoff_approve_reports_the_handoff(harness: RenderHarness) -> None:
    """Approve on a handoff reports handoff-approve with the handoff ID as its value."""
    message = handoff()
    await harness.render("message", message)
    await harness.out.get_by_role("button", name="Approve").click()
    [action] = await harness.actions()
    index = next(i for i, block in enumerate(message["blocks"]) if block["type"] == "actions")
    assert action["action_id"] == ActionId.HANDOFF_APPROVE.value
    assert action["value"] == "01HANDOFF"
    assert action["block_id"] == f"block-{index}"


async def test_bot_message_shows_the_bot_name_and_time(harness: RenderHarness) -> None:
    """A bot's message is signed with the bot's name, an APP badge and the time it was sent."""
    await harness.render("message", handoff())
    await expect(harness.out.locator(".sk-author")).to_have_text("Handrail")
    await expect(harness.out.locator(".sk-app-badge")).to_have_text("APP")
    await expect(harness.out.locator(".sk-time")).not_to_be_empty()


async def test_person_message_shows_their_name_and_text(harness: RenderHarness) -> None:
    """A message without blocks shows its sender's name and its text as mrkdwn."""
    await harness.render("message", text_message("*done*"))
    await expect(harness.out.locator(".sk-author")).to_have_text("alice")
    await expect(harness.out.locator("strong")).to_have_text("done")


async def test_empty_blocks_fall_back_to_text(harness: RenderHarness) -> None:
    """A message with an empty blocks list shows its text."""
    await harness.render("message", text_message("just text", blocks=[]))
    await expect(harness.out.locator(".sk-message-text")).to_have_text("just text")


async def test_updated_message_says_edited(harness: RenderHarness) -> None:
    """A message that was updated in place says "(edited)"."""
    await harness.render("message", text_message(edited={"user": "B0BOT", "ts": "1.0"}))
    await expect(harness.out.locator(".sk-edited")).to_have_text("(edited)")


async def test_context_can_mark_a_message_edited(harness: RenderHarness) -> None:
    """ctx.edited marks a message "(edited)" even when the JSON does not say so."""
    await harness.render("message", text_message(), edited=True)
    await expect(harness.out.locator(".sk-edited")).to_have_text("(edited)")


async def test_attachments_are_shown_raw(harness: RenderHarness) -> None:
    """Attachments, which the renderer does not draw, are shown raw beside the message."""
    message = text_message(attachments=[{"color": "#f00", "text": "legacy"}])
    await harness.render("message", message)
    await expect(harness.out.locator(".sk-message-text")).to_have_text("hello")
    await expect(harness.out.locator(".sk-raw")).to_contain_text(WARNING)
    await expect(harness.out.locator(".sk-raw pre")).to_contain_text("legacy")


async def test_thread_link_opens_the_thread(harness: RenderHarness) -> None:
    """A message with replies shows their count, and clicking it opens its thread."""
    await harness.render("message", text_message(reply_count=2))
    await harness.out.get_by_role("button", name="2 replies").click()
    assert await harness.threads() == ["1714559880.000100"]


async def test_ephemeral_message_says_only_you_see_it(harness: RenderHarness) -> None:
    """An ephemeral message is marked as visible only to the reader."""
    await harness.render("message", text_message("You cannot approve this", ephemeral=True))
    await expect(harness.out.locator(".sk-ephemeral-note")).to_contain_text("Only visible to you")


async def test_message_without_blocks_or_text_is_raw(harness: RenderHarness) -> None:
    """A message with neither blocks nor text is shown raw with the warning."""
    await harness.render("message", {"type": "message", "ts": "1.0"})
    await expect(harness.out.locator(".sk-raw")).to_contain_text(WARNING)


async def test_message_with_blocks_not_a_list_is_raw(harness: RenderHarness) -> None:
    """A message whose blocks are not a list is shown raw, text and all."""
    await harness.render("message", text_message(blocks="oops"))
    await expect(harness.out.locator(".sk-raw pre")).to_contain_text('"blocks": "oops"')
