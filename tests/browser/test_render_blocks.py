"""Block Kit blocks drawn by the renderer in a real browser, and what their controls report."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import PageErrors, RenderHarness

WARNING = "This block could not be shown as Slack would; raw JSON below"
ACTION_TS = re.compile(r"^\d{10}\.\d{6}$")


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(text: str, action_id: str, value: str, **more: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, "value": value, **more}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


async def test_header_is_drawn_large_and_bold(harness: RenderHarness) -> None:
    """A header block shows its plain text as the message's heading."""
    await harness.render("blocks", [{"type": "header", "text": plain("Draft for review")}])
    header = harness.out.locator(".sk-header")
    await expect(header).to_have_text("Draft for review")
    await expect(header).to_have_css("font-weight", "900")


async def test_section_fields_sit_in_two_columns(harness: RenderHarness) -> None:
    """A section's fields are laid out in two columns under its text."""
    fields = [mrkdwn("*Workflow*\nticket-triage"), mrkdwn("*Severity*\nhigh"), mrkdwn("*Runs*\n3")]
    await harness.render("blocks", [{"type": "section", "text": mrkdwn("Alert"), "fields": fields}])
    await expect(harness.out.locator(".sk-field")).to_have_count(3)
    columns = await harness.out.locator(".sk-fields").evaluate(
        "node => getComputedStyle(node).gridTemplateColumns.split(' ').length"
    )
    assert columns == 2


async def test_section_accessory_button_reports_a_click(harness: RenderHarness) -> None:
    """A button beside a section's text reports its action with the section's block_id."""
    block = {
        "type": "section",
        "block_id": "run-line",
        "text": mrkdwn("Run `run-42`"),
        "accessory": button("Trace", "trace-open", "run-42"),
    }
    await harness.render("blocks", [block])
    await harness.out.get_by_role("button", name="Trace").click()
    [action] = await harness.actions()
    assert action["block_id"] == "run-line"
    assert action["action_id"] == "trace-open"
    assert action["value"] == "run-42"


async def test_context_shows_images_and_small_text(harness: RenderHarness) -> None:
    """A context block shows its image elements and its text in the small grey style."""
    image = {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "logo"}
    await harness.render("blocks", [{"type": "context", "elements": [image, mrkdwn("_3 runs_")]}])
    context = harness.out.locator(".sk-context")
    await expect(context.locator("img")).to_have_attribute("alt", "logo")
    await expect(context.locator("em")).to_have_text("3 runs")
    await expect(context).to_have_css("font-size", "13px")


async def test_divider_is_a_rule(harness: RenderHarness) -> None:
    """A divider block is a horizontal rule."""
    await harness.render("blocks", [{"type": "divider"}])
    await expect(harness.out.locator("hr")).to_have_count(1)


async def test_image_block_shows_image_and_title(harness: RenderHarness) -> None:
    """An image block shows its title above the picture, with the alt text."""
    block = {
        "type": "image",
        "image_url": "https://example.com/chart.png",
        "alt_text": "a chart",
        "title": plain("Weekly runs"),
    }
    await harness.render("blocks", [block])
    await expect(harness.out.locator(".sk-image-title")).to_have_text("Weekly runs")
    await expect(harness.out.locator("img.sk-image")).to_have_attribute("alt", "a chart")


async def test_button_styles_are_green_and_red(harness: RenderHarness) -> None:
    """Primary buttons are Slack green and danger buttons Slack red."""
    elements = [
        button("Approve", "a", "1", style="primary"),
        button("Reject", "r", "1", style="danger"),
    ]
    await harness.render("blocks", [{"type": "actions", "elements": elements}])
    approve = harness.out.get_by_role("button", name="Approve")
    await expect(approve).to_have_css("background-color", "rgb(0, 122, 90)")
    reject = harness.out.get_by_role("button", name="Reject")
    await expect(reject).to_have_css("color", "rgb(224, 30, 90)")


async def test_button_click_reports_slacks_action_shape(harness: RenderHarness) -> None:
    """A click reports exactly Slack's block_actions action object."""
    approve = button("Approve", "handoff-approve", "01HANDOFF", style="primary")
    await harness.render(
        "blocks", [{"type": "actions", "block_id": "decide", "elements": [approve]}]
    )
    await harness.out.get_by_role("button", name="Approve").click()
    [action] = await harness.actions()
    assert ACTION_TS.match(action.pop("action_ts"))
    assert action == {
        "type": "button",
        "action_id": "handoff-approve",
        "block_id": "decide",
        "value": "01HANDOFF",
        "text": plain("Approve"),
        "style": "primary",
    }


async def test_block_without_block_id_reports_its_index(harness: RenderHarness) -> None:
    """A block with no block_id reports "block-<index>", as the emulator assigns it."""
    blocks = [{"type": "divider"}, {"type": "actions", "elements": [button("Go", "go", "1")]}]
    await harness.render("blocks", blocks)
    await harness.out.get_by_role("button", name="Go").click()
    [action] = await harness.actions()
    assert action["block_id"] == "block-1"


async def test_button_stays_disabled_while_its_action_is_pending(harness: RenderHarness) -> None:
    """While the page has not answered a click, the clicked button cannot be pressed again."""
    await harness.hold_actions()
    await harness.render("blocks", [{"type": "actions", "elements": [button("Approve", "a", "1")]}])
    approve = harness.out.get_by_role("button", name="Approve")
    await approve.click()
    await expect(approve).to_be_disabled()
    await harness.release_actions()
    await expect(approve).to_be_enabled()
    assert len(await harness.actions()) == 1


async def test_confirm_dialog_cancel_sends_nothing(harness: RenderHarness) -> None:
    """A button with a confirm asks first, and Cancel sends no action."""
    confirm = {
        "title": plain("Resolve alert?"),
        "text": mrkdwn("This closes the alert for *everyone*."),
        "confirm": plain("Resolve"),
        "deny": plain("Keep it"),
    }
    resolve = button("Resolve", "alert-resolve", "A1", confirm=confirm)
    await harness.render("blocks", [{"type": "actions", "elements": [resolve]}])
    await harness.out.get_by_role("button", name="Resolve").click()
    dialog = harness.page.get_by_role("alertdialog")
    await expect(dialog).to_contain_text("This closes the alert for everyone.")
    await dialog.get_by_role("button", name="Keep it").click()
    await expect(dialog).to_have_count(0)
    assert await harness.actions() == []


async def test_confirm_dialog_confirm_sends_the_action(harness: RenderHarness) -> None:
    """Confirming the dialog sends the button's action."""
    confirm = {"title": plain("Sure?"), "text": plain("Really."), "confirm": plain("Yes, resolve")}
    resolve = button("Resolve", "alert-resolve", "A1", confirm=confirm)
    await harness.render("blocks", [{"type": "actions", "elements": [resolve]}])
    await harness.out.get_by_role("button", name="Resolve").click()
    await harness.page.get_by_role("button", name="Yes, resolve").click()
    [action] = await harness.actions()
    assert action["action_id"] == "alert-resolve"


async def test_url_button_opens_its_link_in_a_new_tab(
    harness: RenderHarness, render_url: str
) -> None:
    """A button with a url opens it in a new tab and still reports the click."""
    docs = button("Docs", "open-docs", "x", url=f"{render_url}/render.css")
    await harness.render("blocks", [{"type": "actions", "elements": [docs]}])
    async with harness.page.context.expect_page() as opened:
        await harness.out.get_by_role("button", name="Docs").click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == f"{render_url}/render.css"
    [action] = await harness.actions()
    assert action["action_id"] == "open-docs"


async def test_overflow_menu_reports_the_chosen_option(harness: RenderHarness) -> None:
    """Choosing from an overflow menu reports selected_option with its text and value."""
    menu = {
        "type": "overflow",
        "action_id": "alert-snooze",
        "options": [option("1 hour", "A1|1h"), option("1 day", "A1|1d")],
    }
    await harness.render("blocks", [{"type": "actions", "block_id": "b", "elements": [menu]}])
    await harness.out.get_by_title("More actions").click()
    await harness.out.get_by_role("button", name="1 day").click()
    [action] = await harness.actions()
    assert action["type"] == "overflow"
    assert action["selected_option"] == option("1 day", "A1|1d")


async def test_overflow_menu_closes_on_a_click_elsewhere(harness: RenderHarness) -> None:
    """An open overflow menu closes when the person clicks outside it, sending nothing."""
    menu = {"type": "overflow", "action_id": "m", "options": [option("1 hour", "1h")]}
    await harness.render("blocks", [{"type": "actions", "elements": [menu]}])
    await harness.out.get_by_title("More actions").click()
    item = harness.out.get_by_role("button", name="1 hour")
    await expect(item).to_be_visible()
    await harness.page.mouse.click(5, 700)
    await expect(item).to_be_hidden()
    assert await harness.actions() == []


async def test_static_select_reports_the_chosen_option(harness: RenderHarness) -> None:
    """Choosing from a static select reports selected_option with its text and value."""
    select = {
        "type": "static_select",
        "action_id": "alert-snooze",
        "placeholder": plain("Snooze"),
        "options": [option("1 hour", "1h"), option("1 day", "1d")],
    }
    await harness.render("blocks", [{"type": "actions", "block_id": "b", "elements": [select]}])
    await harness.out.locator("select").select_option(label="1 hour")
    [action] = await harness.actions()
    assert action["type"] == "static_select"
    assert action["block_id"] == "b"
    assert action["selected_option"] == option("1 hour", "1h")


async def test_unknown_block_is_raw_and_its_neighbours_render(
    harness: RenderHarness, page_errors: PageErrors
) -> None:
    """An unknown block is shown as JSON under a warning; the blocks around it still render."""
    blocks = [
        {"type": "header", "text": plain("Before")},
        {"type": "hologram", "beam": "<img src=x onerror=window.pwned=1>"},
        {"type": "section", "text": mrkdwn("After")},
    ]
    await harness.render("blocks", blocks)
    raw = harness.out.locator(".sk-raw")
    await expect(raw).to_contain_text(WARNING)
    await expect(raw.locator("pre")).to_contain_text('"type": "hologram"')
    await expect(harness.out.locator(".sk-header")).to_have_text("Before")
    await expect(harness.out.locator(".sk-section")).to_have_text("After")
    assert not page_errors


async def test_malformed_block_is_raw(harness: RenderHarness) -> None:
    """A known block with a field of the wrong type is shown raw, not half-drawn."""
    await harness.render("blocks", [{"type": "section", "text": 5}, {"type": "header"}])
    await expect(harness.out.locator(".sk-raw")).to_have_count(2)


async def test_unknown_element_is_raw_beside_working_buttons(harness: RenderHarness) -> None:
    """An element the renderer does not draw (an external select) is raw; its siblings work."""
    external = {"type": "external_select", "action_id": "pick", "min_query_length": 2}
    elements = [button("Approve", "a", "1"), external]
    await harness.render("blocks", [{"type": "actions", "elements": elements}])
    raw = harness.out.locator(".sk-actions .sk-raw")
    await expect(raw).to_contain_text("This element could not be shown as Slack would")
    await expect(raw).to_contain_text("external_select")
    await harness.out.get_by_role("button", name="Approve").click()
    assert len(await harness.actions()) == 1


async def test_blocks_that_are_not_a_list_are_raw(harness: RenderHarness) -> None:
    """A blocks value that is not a list is shown raw."""
    await harness.render("blocks", {"type": "section"})
    await expect(harness.out.locator(".sk-raw")).to_contain_text(WARNING)


async def test_rich_text_styles_and_mentions(harness: RenderHarness) -> None:
    """Rich text elements keep their styles, mentions, links, emoji and broadcasts."""
    section = {
        "type": "rich_text_section",
        "elements": [
            {"type": "text", "text": "bold", "style": {"bold": True}},
            {"type": "text", "text": " "},
            {"type": "text", "text": "code", "style": {"code": True}},
            {"type": "user", "user_id": "U0BOB"},
            {"type": "channel", "channel_id": "C0ONCALL"},
            {"type": "usergroup", "usergroup_id": "S0TEAM"},
            {"type": "broadcast", "range": "here"},
            {"type": "emoji", "name": "tada", "unicode": "1f389"},
            {"type": "link", "url": "https://example.com", "text": "site"},
        ],
    }
    await harness.render("blocks", [{"type": "rich_text", "elements": [section]}])
    rich = harness.out.locator(".sk-rich-text")
    await expect(rich.locator("strong")).to_have_text("bold")
    await expect(rich.locator("code")).to_have_text("code")
    await expect(rich.locator(".sk-mention")).to_have_text(
        ["@bob", "#oncall", "@support-team", "@here"]
    )
    await expect(rich.locator("a")).to_have_attribute("href", "https://example.com/")
    await expect(rich).to_contain_text("\U0001f389")


async def test_rich_text_lists_nest_and_number(harness: RenderHarness) -> None:
    """Rich text lists are bullet or numbered, indented by their indent level."""

    def item(text: str) -> dict[str, Any]:
        return {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}

    parts = [
        {"type": "rich_text_list", "style": "bullet", "elements": [item("a"), item("b")]},
        {"type": "rich_text_list", "style": "ordered", "indent": 1, "elements": [item("c")]},
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "x = 1"}]},
        {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
    ]
    await harness.render("blocks", [{"type": "rich_text", "elements": parts}])
    await expect(harness.out.locator("ul > li")).to_have_text(["a", "b"])
    await expect(harness.out.locator("ol > li")).to_have_text(["c"])
    await expect(harness.out.locator("ol")).to_have_css("margin-left", "22px")
    await expect(harness.out.locator("pre")).to_have_text("x = 1")
    await expect(harness.out.locator("blockquote")).to_have_text("quoted")


async def test_rich_text_is_literal(harness: RenderHarness) -> None:
    """Rich text is shown as written: no mrkdwn, no entity decoding, no markup."""
    text = {"type": "text", "text": "*not bold* &amp; <b>raw</b>"}
    section = {"type": "rich_text_section", "elements": [text]}
    await harness.render("blocks", [{"type": "rich_text", "elements": [section]}])
    await expect(harness.out.locator(".sk-rich-text")).to_have_text("*not bold* &amp; <b>raw</b>")
    await expect(harness.out.locator("strong, b")).to_have_count(0)


async def test_file_and_video_blocks_are_shown_as_links(harness: RenderHarness) -> None:
    """A file block names its file and a video block links to its video."""
    video = {
        "type": "video",
        "title": plain("Walkthrough"),
        "video_url": "https://example.com/v",
        "thumbnail_url": "https://example.com/t.png",
        "alt_text": "walkthrough",
    }
    await harness.render(
        "blocks", [{"type": "file", "external_id": "F1", "source": "remote"}, video]
    )
    await expect(harness.out.locator(".sk-file")).to_contain_text("F1")
    await expect(harness.out.locator(".sk-video a")).to_have_text("Walkthrough")


async def test_two_hundred_blocks_render(harness: RenderHarness) -> None:
    """A message of 200 blocks renders every one of them."""
    blocks = [{"type": "section", "text": mrkdwn(f"*Line {n}*")} for n in range(200)]
    await harness.render_soon("blocks", blocks)
    await expect(harness.out.locator(".sk-section")).to_have_count(200)
    await expect(harness.out.locator(".sk-section").last).to_have_text("Line 199")
