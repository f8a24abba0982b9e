"""Slack mrkdwn drawn by the renderer in a real browser: each construct, and hostile text."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import PageErrors, RenderHarness

#: 2024-05-01 12:00:00 UTC: the same calendar day in every time zone from UTC-11 to UTC+11.
NOON = 1714564800


@pytest.mark.parametrize(
    ("text", "tag", "inner"),
    [
        ("a *bold* word", "strong", "bold"),
        ("an _italic_ word", "em", "italic"),
        ("a ~struck~ word", "s", "struck"),
        ("some `inline code` here", "code", "inline code"),
    ],
)
async def test_inline_styles_become_their_elements(
    harness: RenderHarness, text: str, tag: str, inner: str
) -> None:
    """Each inline style marker wraps its words in the matching element."""
    await harness.render("mrkdwn", text)
    await expect(harness.out.locator(tag)).to_have_text(inner)


async def test_style_markers_inside_words_stay_literal(harness: RenderHarness) -> None:
    """Underscores and stars inside words (snake_case, 2*3*4) are not formatting."""
    await harness.render("mrkdwn", "call snake_case_name with 2*3*4")
    await expect(harness.out).to_have_text("call snake_case_name with 2*3*4")
    await expect(harness.out.locator("em, strong")).to_have_count(0)


async def test_styles_nest(harness: RenderHarness) -> None:
    """Bold around italic draws italic inside bold."""
    await harness.render("mrkdwn", "*_both_*")
    await expect(harness.out.locator("strong > em")).to_have_text("both")


async def test_code_block_keeps_its_text_unformatted(harness: RenderHarness) -> None:
    """A fenced block is preformatted and its stars, links and entities are shown as text."""
    await harness.render("mrkdwn", "before\n```\n*not bold* &lt;x&gt;\n  indented\n```\nafter")
    block = harness.out.locator("pre")
    await expect(block).to_have_text("*not bold* <x>\n  indented")
    await expect(block.locator("strong")).to_have_count(0)


async def test_quote_lines_become_one_blockquote(harness: RenderHarness) -> None:
    """Consecutive lines starting with ">" (or its entity) are one quote; the next line is not."""
    await harness.render("mrkdwn", "&gt; first\n> second\nafter")
    quote = harness.out.locator("blockquote")
    await expect(quote).to_have_count(1)
    await expect(quote).to_have_text("firstsecond")
    await expect(harness.out).to_contain_text("after")


async def test_triple_quote_quotes_the_rest(harness: RenderHarness) -> None:
    """ ">>>" quotes every line after it."""
    await harness.render("mrkdwn", "intro\n>>> one\ntwo\nthree")
    await expect(harness.out.locator("blockquote")).to_have_text("onetwothree")


async def test_list_lines_are_shown_as_list_lines(harness: RenderHarness) -> None:
    """Bullet and numbered lines keep their markers and get a hanging indent each."""
    await harness.render("mrkdwn", "Steps:\n• first\n• second\n1. one\n2. two")
    lines = harness.out.locator(".sk-list-line")
    await expect(lines).to_have_text(["• first", "• second", "1. one", "2. two"])


async def test_newlines_become_line_breaks(harness: RenderHarness) -> None:
    """Each newline outside code is a line break."""
    await harness.render("mrkdwn", "one\ntwo\nthree")
    await expect(harness.out.locator("br")).to_have_count(2)


async def test_known_user_is_shown_by_name(harness: RenderHarness) -> None:
    """A user mention shows the name the page knows."""
    await harness.render("mrkdwn", "ask <@U0ALICE>")
    await expect(harness.out.locator(".sk-user")).to_have_text("@alice")


async def test_unknown_user_is_shown_by_id_marked_unknown(harness: RenderHarness) -> None:
    """A mention of a user the page does not know shows the ID, marked as unknown."""
    await harness.render("mrkdwn", "ask <@U0NOBODY>")
    mention = harness.out.locator(".sk-user")
    await expect(mention).to_have_text("@U0NOBODY")
    await expect(mention).to_have_class("sk-mention sk-user sk-unknown")


async def test_channels_are_shown_by_name(harness: RenderHarness) -> None:
    """A channel mention shows the known name, or the label it carries."""
    await harness.render("mrkdwn", "see <#C0REVIEW> and <#C0OTHER|general>")
    await expect(harness.out.locator(".sk-channel")).to_have_text(["#reviews", "#general"])


async def test_broadcasts_and_usergroups_are_highlighted(harness: RenderHarness) -> None:
    """<!here>, <!channel>, <!everyone> and <!subteam^…> show as highlighted mentions."""
    await harness.render("mrkdwn", "<!here> <!channel> <!everyone> <!subteam^S0TEAM>")
    await expect(harness.out.locator(".sk-mention")).to_have_text(
        ["@here", "@channel", "@everyone", "@support-team"]
    )


async def test_links_open_in_a_new_tab(harness: RenderHarness) -> None:
    """<url|label> and <url> become links that open in a new tab without an opener."""
    await harness.render("mrkdwn", "<https://example.com/a?b=1&amp;c=2|the docs> <mailto:a@b.c>")
    links = harness.out.locator("a")
    await expect(links).to_have_text(["the docs", "mailto:a@b.c"])
    await expect(links.first).to_have_attribute("href", "https://example.com/a?b=1&c=2")
    await expect(links.first).to_have_attribute("target", "_blank")
    await expect(links.first).to_have_attribute("rel", "noopener noreferrer")


async def test_links_to_other_schemes_are_text(harness: RenderHarness) -> None:
    """A javascript: or data: link is shown as the text it was, never as a link."""
    await harness.render("mrkdwn", "<javascript:alert(1)|click me> <data:text/html,hi>")
    await expect(harness.out.locator("a")).to_have_count(0)
    await expect(harness.out).to_have_text("<javascript:alert(1)|click me> <data:text/html,hi>")


async def test_date_is_shown_in_the_readers_time_zone(harness: RenderHarness) -> None:
    """<!date^…> tokens are formatted in the browser's own time zone."""
    await harness.render("mrkdwn", f"<!date^{NOON}^{{date_num}} at {{time}}|fallback>")
    expected = await harness.evaluate(
        f"new Date({NOON} * 1000).toLocaleTimeString('en-US', "
        "{hour: 'numeric', minute: '2-digit'})"
    )
    await expect(harness.out.locator(".sk-date")).to_have_text(f"2024-05-01 at {expected}")


async def test_date_with_a_long_format_spells_the_day(harness: RenderHarness) -> None:
    """{date_long} spells the weekday, month and ordinal day as Slack does."""
    await harness.render("mrkdwn", f"<!date^{NOON}^{{date_long}}|fallback>")
    await expect(harness.out.locator(".sk-date")).to_have_text("Wednesday, May 1st, 2024")


async def test_date_with_an_unknown_token_shows_the_fallback(harness: RenderHarness) -> None:
    """A format with a token Slack does not know shows the fallback text."""
    await harness.render("mrkdwn", f"<!date^{NOON}^{{fortnight}}|May 1 2024>")
    await expect(harness.out.locator(".sk-date")).to_have_text("May 1 2024")


async def test_entities_are_decoded_for_display(harness: RenderHarness) -> None:
    """&amp;, &lt; and &gt; are shown as the characters they stand for."""
    await harness.render("mrkdwn", "Tom &amp; Jerry &lt;3 a &gt; b")
    await expect(harness.out).to_have_text("Tom & Jerry <3 a > b")


async def test_emoji_names_become_emoji(harness: RenderHarness) -> None:
    """Known emoji names are drawn as emoji and unknown ones stay as written."""
    await harness.render("mrkdwn", ":white_check_mark: done :not_an_emoji:")
    await expect(harness.out).to_have_text("\u2705 done :not_an_emoji:")


@pytest.mark.parametrize(
    "hostile",
    [
        "<img src=x onerror=window.pwned=1>",
        "&lt;img src=x onerror=window.pwned=1&gt;",
        "<script>window.pwned=1</script>",
        "```<img src=x onerror=window.pwned=1>```",
        "*<svg onload=window.pwned=1>*",
    ],
)
async def test_markup_in_text_is_shown_and_never_run(
    harness: RenderHarness, page_errors: PageErrors, hostile: str
) -> None:
    """HTML in message text appears as text: no element is created and no script runs."""
    await harness.render("mrkdwn", hostile)
    await expect(harness.out.locator("img, script, svg")).to_have_count(0)
    await expect(harness.out).to_contain_text("window.pwned=1")
    assert await harness.evaluate("window.pwned") is None
    assert not page_errors


async def test_forty_thousand_characters_render(harness: RenderHarness) -> None:
    """A 40,000-character text of unclosed markers and mentions renders whole."""
    piece = "*a _b ~c <@U0ALICE> `d &amp; <x "
    text = (piece * (40_000 // len(piece) + 1))[:40_000]
    await harness.render_soon("mrkdwn", text)
    await expect(harness.out.locator(".sk-user").first).to_have_text("@alice")
    assert await harness.evaluate("document.querySelector('#out').textContent.length") > 30_000
