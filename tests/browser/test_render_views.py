"""Modals drawn by the renderer: their inputs, the state Slack would submit, and field errors."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from handlers.blocks import reject_modal
from handlers.ids import BlockId, InputId
from tests.browser.conftest import RenderHarness
from tests.test_blocks import make_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def input_block(block_id: str, label: str, element: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        **more,
    }


CHOICES = [option("Low", "low"), option("High", "high")]
FORM: dict[str, Any] = {
    "type": "modal",
    "callback_id": "form",
    "title": plain("A form"),
    "submit": plain("Send"),
    "close": plain("Never mind"),
    "blocks": [
        input_block(
            "note",
            "Note",
            {
                "type": "plain_text_input",
                "action_id": "note_text",
                "multiline": True,
                "placeholder": plain("Say something"),
                "max_length": 20,
                "min_length": 3,
            },
            hint=plain("Keep it short."),
        ),
        input_block(
            "title",
            "Title",
            {"type": "plain_text_input", "action_id": "title_text", "initial_value": "Hi"},
            optional=True,
        ),
        input_block(
            "level",
            "Level",
            {"type": "static_select", "action_id": "level_pick", "options": CHOICES},
            optional=True,
        ),
        input_block(
            "tone",
            "Tone",
            {"type": "radio_buttons", "action_id": "tone_pick", "options": CHOICES},
            optional=True,
        ),
        input_block(
            "flags",
            "Flags",
            {
                "type": "checkboxes",
                "action_id": "flag_pick",
                "options": CHOICES,
                "initial_options": [CHOICES[1]],
            },
            optional=True,
        ),
        input_block(
            "due",
            "Due",
            {"type": "datepicker", "action_id": "due_pick", "initial_date": "2024-05-01"},
            optional=True,
        ),
    ],
}


async def test_modal_shows_title_and_button_labels(harness: RenderHarness) -> None:
    """A modal shows its title and its own close and submit labels."""
    await harness.render("view", FORM)
    await expect(harness.out.locator(".sk-modal-title")).to_have_text("A form")
    await expect(harness.out.locator(".sk-modal-submit")).to_have_text("Send")
    await expect(harness.out.locator(".sk-modal-close")).to_have_text("Never mind")


async def test_inputs_show_label_hint_placeholder_and_optional(harness: RenderHarness) -> None:
    """Each input shows its label, hint, placeholder and whether it is optional."""
    await harness.render("view", FORM)
    note = harness.out.locator('[data-block-id="note"]')
    await expect(note.locator(".sk-input-label")).to_have_text("Note")
    await expect(note.locator(".sk-input-hint")).to_have_text("Keep it short.")
    await expect(note.locator("textarea")).to_have_attribute("placeholder", "Say something")
    await expect(note.locator("textarea")).to_have_attribute("maxlength", "20")
    title = harness.out.locator('[data-block-id="title"]')
    await expect(title.locator(".sk-input-label")).to_have_text("Title (optional)")
    await expect(title.locator("input")).to_have_value("Hi")


async def test_view_state_has_slacks_shape(harness: RenderHarness) -> None:
    """collectViewState reports every input as Slack's view.state.values does."""
    await harness.render("view", FORM)
    await harness.out.locator("textarea").fill("Looks wrong")
    await harness.out.locator("select").select_option(label="High")
    await harness.out.get_by_role("radio", name="Low").check()
    await harness.out.get_by_role("checkbox", name="Low").check()
    assert await harness.view_state() == {
        "note": {"note_text": {"type": "plain_text_input", "value": "Looks wrong"}},
        "title": {"title_text": {"type": "plain_text_input", "value": "Hi"}},
        "level": {"level_pick": {"type": "static_select", "selected_option": CHOICES[1]}},
        "tone": {"tone_pick": {"type": "radio_buttons", "selected_option": CHOICES[0]}},
        "flags": {"flag_pick": {"type": "checkboxes", "selected_options": CHOICES}},
        "due": {"due_pick": {"type": "datepicker", "selected_date": "2024-05-01"}},
    }


async def test_view_state_of_untouched_inputs_is_empty(harness: RenderHarness) -> None:
    """Empty inputs report null values and no selected options, as Slack does."""
    await harness.render("view", FORM)
    await harness.out.locator('[data-block-id="title"] input').fill("")
    state = await harness.view_state()
    assert state["note"]["note_text"] == {"type": "plain_text_input", "value": None}
    assert state["title"]["title_text"] == {"type": "plain_text_input", "value": None}
    assert state["level"]["level_pick"] == {"type": "static_select", "selected_option": None}
    assert state["tone"]["tone_pick"] == {"type": "radio_buttons", "selected_option": None}


async def test_required_empty_input_is_refused_before_submit(harness: RenderHarness) -> None:
    """checkViewInputs names a required input left empty, as Slack's client refuses it."""
    await harness.render("view", FORM)
    assert await harness.check_inputs() == {"note": "Please fill out this field."}


async def test_text_shorter_than_min_length_is_refused(harness: RenderHarness) -> None:
    """checkViewInputs names a text input shorter than its min_length."""
    await harness.render("view", FORM)
    await harness.out.locator("textarea").fill("no")
    assert await harness.check_inputs() == {"note": "Please use at least 3 characters."}


async def test_errors_are_shown_under_their_field(harness: RenderHarness) -> None:
    """showViewErrors puts each message under the input of the named block."""
    await harness.render("view", FORM)
    await harness.show_errors({"level": "Pick a level for this case"})
    level = harness.out.locator('[data-block-id="level"] .sk-input-error')
    await expect(level).to_have_text("Pick a level for this case")
    await expect(harness.out.locator(".sk-input-error:visible")).to_have_count(1)


async def test_new_errors_replace_old_ones(harness: RenderHarness) -> None:
    """A second showViewErrors clears the messages of the first."""
    await harness.render("view", FORM)
    await harness.show_errors({"level": "Pick a level"})
    await harness.show_errors({"note": "Say why"})
    await expect(harness.out.locator(".sk-input-error:visible")).to_have_text(["Say why"])


async def test_error_for_an_unknown_block_is_shown_at_the_top(harness: RenderHarness) -> None:
    """An error naming a block the modal does not have is shown above the form, not lost."""
    await harness.render("view", FORM)
    await harness.show_errors({"ghost": "Something is wrong"})
    await expect(harness.out.locator(".sk-view-errors")).to_have_text("ghost: Something is wrong")


async def test_malformed_view_is_shown_raw(harness: RenderHarness) -> None:
    """A view without a title is shown raw with the warning, with a way to close it."""
    await harness.render("view", {"type": "modal", "blocks": []})
    await expect(harness.out.locator(".sk-raw")).to_contain_text("raw JSON below")
    await expect(harness.out.locator(".sk-modal-close")).to_have_text("Close")


async def test_handrails_reject_modal_reports_its_reason(harness: RenderHarness) -> None:
    """Handrail's own reject modal reports the typed reason under its own block and input IDs."""
    await harness.render("view", reject_modal(make_view()))
    await harness.out.get_by_role("textbox").fill("Quotes last year's policy")
    state = await harness.view_state()
    reason = state[BlockId.REJECT_REASON.value][InputId.REJECT_REASON.value]
    assert reason == {"type": "plain_text_input", "value": "Quotes last year's policy"}
