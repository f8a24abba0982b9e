"""The emulator refuses Block Kit that Slack would refuse, naming what broke."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from sandbox.blockkit_limits import check_blocks, check_view


def text(n: int, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": "x" * n}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "text": text(5, "plain_text"), "action_id": "approve", **fields}


def modal(**fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": text(10, "plain_text"), "blocks": [], **fields}


def section(**fields: Any) -> dict[str, Any]:
    return {"type": "section", "text": text(10), **fields}


BAD_MESSAGES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "51 blocks": ([{"type": "divider"}] * 51, "/blocks"),
    "section text 3001": ([{"type": "section", "text": text(3001)}], "/blocks/0/text/text"),
    "header 151": ([{"type": "header", "text": text(151, "plain_text")}], "/blocks/0/text/text"),
    "header mrkdwn": ([{"type": "header", "text": text(5)}], "/blocks/0/text/type"),
    "button text 76": (
        [{"type": "actions", "elements": [button(text=text(76, "plain_text"))]}],
        "/blocks/0/elements/0/text/text",
    ),
    "action_id 256": (
        [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
        "/blocks/0/elements/0/action_id",
    ),
    "button value 2001": (
        [{"type": "actions", "elements": [button(value="v" * 2001)]}],
        "/blocks/0/elements/0/value",
    ),
    "26 elements": (
        [{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(26)]}],
        "/blocks/0/elements",
    ),
    "11 fields": ([section(fields=[text(5)] * 11)], "/blocks/0/fields"),
    "field 2001": ([section(fields=[text(2001)])], "/blocks/0/fields/0/text"),
    "11 context elements": (
        [{"type": "context", "elements": [text(5)] * 11}],
        "/blocks/0/elements",
    ),
    "block_id 256": ([section(block_id="b" * 256)], "/blocks/0/block_id"),
    "duplicate block_id": (
        [section(block_id="same"), section(block_id="same")],
        "/blocks/1/block_id",
    ),
    "empty section text": ([{"type": "section", "text": text(0)}], "/blocks/0/text/text"),
    "unknown block type": ([{"type": "carousel"}], "/blocks/0"),
}


@pytest.mark.parametrize("case", list(BAD_MESSAGES), ids=list(BAD_MESSAGES))
def test_a_message_breaking_one_limit_is_refused_at_that_field(case: str) -> None:
    """Each broken limit yields an [ERROR] line whose json-pointer names the field."""
    blocks, pointer = BAD_MESSAGES[case]
    errors = check_blocks(blocks)
    assert len(errors) == 1, errors
    assert errors[0].startswith("[ERROR] ")
    assert errors[0].endswith(f"[json-pointer:{pointer}]")


def test_blocks_at_every_limit_are_accepted() -> None:
    """Payloads exactly at the limits pass: 50 blocks, 3000-character text, 25 buttons."""
    blocks = [{"type": "section", "text": text(3000), "fields": [text(2000)] * 10}]
    blocks.append({"type": "header", "text": text(150, "plain_text")})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                button(action_id=f"{i:0>255}", text=text(75, "plain_text"), value="v" * 2000)
                for i in range(25)
            ],
        }
    )
    blocks += [{"type": "divider"}] * 47
    assert check_blocks(blocks) == []


def test_blocks_built_with_slack_sdk_models_are_accepted() -> None:
    """What slack_sdk.models.blocks builds passes the emulator's checks."""
    blocks = [
        HeaderBlock(text="Draft for review").to_dict(),
        SectionBlock(text="*Why*: confidence 0.62 < 0.8", block_id="why").to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(text="Approve", action_id="handoff-approve", value="h-1"),
                ButtonElement(text="Reject", action_id="handoff-reject", style="danger"),
            ]
        ).to_dict(),
    ]
    assert check_blocks(blocks) == []


BAD_VIEWS: dict[str, tuple[dict[str, Any], str]] = {
    "title 25": (modal(title=text(25, "plain_text")), "/view/title/text"),
    "submit 25": (modal(submit=text(25, "plain_text")), "/view/submit/text"),
    "close 25": (modal(close=text(25, "plain_text")), "/view/close/text"),
    "101 blocks": (modal(blocks=[{"type": "divider"}] * 101), "/view/blocks"),
    "initial_value over max_length": (
        modal(
            submit=text(6, "plain_text"),
            blocks=[
                {
                    "type": "input",
                    "label": text(5, "plain_text"),
                    "element": {
                        "type": "plain_text_input",
                        "action_id": "draft",
                        "max_length": 10,
                        "initial_value": "x" * 11,
                    },
                }
            ],
        ),
        "/view/blocks/0/element/initial_value",
    ),
    "input without submit": (
        modal(
            blocks=[
                {
                    "type": "input",
                    "label": text(5, "plain_text"),
                    "element": {"type": "plain_text_input", "action_id": "draft"},
                }
            ]
        ),
        "/view/submit",
    ),
}


@pytest.mark.parametrize("case", list(BAD_VIEWS), ids=list(BAD_VIEWS))
def test_a_view_breaking_one_limit_is_refused_at_that_field(case: str) -> None:
    """Each broken modal limit yields one [ERROR] line naming the field."""
    view, pointer = BAD_VIEWS[case]
    errors = check_view(view)
    assert len(errors) == 1, errors
    assert errors[0].endswith(f"[json-pointer:{pointer}]")


def test_a_modal_at_its_limits_is_accepted() -> None:
    """A 24-character title, submit and close and 100 blocks pass."""
    label = text(24, "plain_text")
    view = modal(title=label, submit=label, close=label, blocks=[{"type": "divider"}] * 100)
    assert check_view(view) == []


def test_a_modal_built_with_slack_sdk_models_is_accepted() -> None:
    """What slack_sdk.models.views builds passes the emulator's checks."""
    view = View(
        type="modal",
        callback_id="handoff-edit",
        title="Edit the draft",
        submit="Approve",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="draft",
                label="Draft",
                element=PlainTextInputElement(
                    action_id="text", multiline=True, initial_value="Hello"
                ),
            )
        ],
    )
    assert check_view(view.to_dict()) == []
