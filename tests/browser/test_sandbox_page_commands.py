"""Slash commands, alerts and what the page cannot draw, in a real browser.

``/trace`` answers only the person who asked; ``/pause`` marks open handoffs and stops the
gate; an alert raised by repeated errors can be acknowledged; a message the renderer does
not understand is shown raw with a warning, never dropped.
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from sandbox.models import Message
from tests.browser.sandbox_fixtures import (
    DRAFT,
    ONCALL_CHANNEL,
    REVIEW_CHANNEL,
    World,
    command,
    message_with,
    open_page,
    switch_user,
)
from tests.browser.sandbox_fixtures import world as world  # the fixture, by name


async def test_trace_answers_only_the_person_who_asked(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """/trace RUN_ID shows its answer to the asker; another person never sees it."""
    run_id = await world.start_run()
    await open_page(page, world, "U0ALICE")
    await command(page, f"/trace {run_id}")
    answer = page.locator("#messages .message.ephemeral")
    await expect(answer).to_contain_text(run_id)
    await expect(answer).to_contain_text("Only visible to you")
    await switch_user(page, "U0BOB")
    await expect(page.locator("#conversation-name")).to_have_text("# review")
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(0)
    assert not page_errors


async def test_pause_puts_a_banner_on_open_handoffs_and_the_gate_denies(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """/pause by an admin marks the open handoff as paused, and the gate then denies."""
    await open_page(page, world, "U0OWNER")
    await world.open_review()
    handoff = message_with(page, DRAFT)
    await expect(handoff.get_by_role("button", name="Approve")).to_be_visible()
    await command(page, "/pause ticket-triage")
    await expect(handoff).to_contain_text("Paused by")
    answer = await world.gate(await world.start_run())
    assert answer["verdict"] == "deny"
    assert not page_errors


async def test_an_alert_appears_and_acknowledge_updates_it(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """Repeated errors raise an alert in the alert channel; Acknowledge updates it in place."""
    await open_page(page, world, "U0ALICE", channel=ONCALL_CHANNEL)
    await world.fail_repeatedly(5)
    await world.alert_tick()
    alert = page.locator("#messages .message").filter(
        has=page.get_by_role("button", name="Acknowledge")
    )
    await expect(alert).to_be_visible()
    ts = await alert.get_attribute("data-ts")
    await alert.get_by_role("button", name="Acknowledge").click()
    acknowledged = page.locator(f'#messages .message[data-ts="{ts}"]')
    await expect(acknowledged).to_contain_text("Acknowledged by")
    await expect(acknowledged.get_by_role("button", name="Acknowledge")).to_have_count(0)
    assert not page_errors


async def test_a_message_the_page_cannot_draw_is_shown_raw_with_a_warning(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """A block of an unknown type is shown as raw JSON under a warning, its markup inert."""
    await open_page(page, world, "U0BOB")
    workspace = world.sandbox.emulator.workspace
    workspace.add_message(
        Message(
            channel=REVIEW_CHANNEL,
            ts=workspace.next_ts(),
            text="fallback",
            blocks=[{"type": "hologram", "text": "<img src=x onerror=alert(1)>"}],
            user=workspace.identity.bot_user_id,
            bot_id=workspace.identity.bot_id,
        )
    )
    raw = page.locator("#messages .sk-raw")
    await expect(raw).to_contain_text("could not be shown")
    await expect(raw).to_contain_text("<img src=x onerror=alert(1)>")
    await expect(page.locator("#messages img")).to_have_count(0)
    assert not page_errors


async def test_an_unknown_command_is_refused_with_a_visible_note(
    page: Page, world: World, page_errors: list[str]
) -> None:
    """A command Handrail does not offer is refused on the page, and what was typed stays."""
    await open_page(page, world, "U0BOB")
    box = page.get_by_label("Message", exact=True)
    await box.fill("/deploy everything")
    await box.press("Enter")
    await expect(page.locator("#toasts")).to_contain_text("/deploy is not a valid command")
    await expect(box).to_have_value("/deploy everything")
    # The browser logs the refusal's HTTP 400 itself; nothing else may have gone wrong.
    assert [e for e in page_errors if "status of 400" not in e] == []
