"""Slack's Block Kit limits, checked the way Slack checks them.

Slack rejects a message or view that breaks a limit with ``invalid_blocks`` (messages) or
``invalid_arguments`` (views) and lists each problem in ``response_metadata.messages`` as
``[ERROR] <reason> [json-pointer:/blocks/0/text/text]``. Handrail's builders must never
produce such a payload, so the emulator refuses them exactly as Slack would and tests see
the same messages an operator would see in production logs.
"""

from __future__ import annotations

from typing import Any

MESSAGE_MAX_BLOCKS = 50
MODAL_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000

_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_PLAIN_ELEMENTS = frozenset(
    {
        "datepicker",
        "timepicker",
        "datetimepicker",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
        "workflow_button",
    }
)


class _Checker:
    """Walks one payload and collects Slack-style error lines."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, reason: str) -> None:
        self.errors.append(f"[ERROR] {reason} [json-pointer:{pointer}]")

    def string(self, value: object, ptr: str, *, max_len: int, min_len: int = 0) -> None:
        if not isinstance(value, str):
            self.fail(ptr, "must be a string")
        elif len(value) > max_len:
            self.fail(ptr, f"must be less than {max_len + 1} characters")
        elif len(value) < min_len:
            self.fail(ptr, f"must be more than {min_len - 1} characters")

    def optional_string(self, obj: dict[str, Any], key: str, ptr: str, *, max_len: int) -> None:
        if key in obj:
            self.string(obj[key], f"{ptr}/{key}", max_len=max_len)

    def text(self, obj: object, ptr: str, *, max_len: int, plain_only: bool = False) -> None:
        """A composition text object: ``{"type": "plain_text"|"mrkdwn", "text": ...}``."""
        if not isinstance(obj, dict):
            self.fail(ptr, "must be an object")
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.fail(f"{ptr}/type", f"must be one of {', '.join(allowed)}")
        self.string(obj.get("text"), f"{ptr}/text", max_len=max_len, min_len=1)

    def array(self, value: object, ptr: str, *, max_items: int, min_items: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.fail(ptr, "must be an array")
            return []
        if len(value) > max_items:
            self.fail(ptr, f"must be less than {max_items + 1} items")
        elif len(value) < min_items:
            self.fail(ptr, f"must provide at least {min_items} items")
        return value

    def confirm(self, obj: object, ptr: str) -> None:
        if not isinstance(obj, dict):
            self.fail(ptr, "must be an object")
            return
        self.text(obj.get("title"), f"{ptr}/title", max_len=100, plain_only=True)
        self.text(obj.get("text"), f"{ptr}/text", max_len=300)
        self.text(obj.get("confirm"), f"{ptr}/confirm", max_len=30, plain_only=True)
        self.text(obj.get("deny"), f"{ptr}/deny", max_len=30, plain_only=True)

    def option(self, obj: object, ptr: str) -> None:
        if not isinstance(obj, dict):
            self.fail(ptr, "must be an object")
            return
        self.text(obj.get("text"), f"{ptr}/text", max_len=75)
        self.string(obj.get("value"), f"{ptr}/value", max_len=150, min_len=1)
        if "description" in obj:
            self.text(obj["description"], f"{ptr}/description", max_len=75)

    def element(self, el: object, ptr: str) -> None:
        """An interactive element (button, select, input…) in a block."""
        if not isinstance(el, dict):
            self.fail(ptr, "must be an object")
            return
        kind = el.get("type")
        if "action_id" in el:
            self.string(el["action_id"], f"{ptr}/action_id", max_len=255, min_len=1)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{ptr}/confirm")
        if kind == "button":
            self.text(el.get("text"), f"{ptr}/text", max_len=75, plain_only=True)
            self.optional_string(el, "value", ptr, max_len=2000)
            self.optional_string(el, "url", ptr, max_len=3000)
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.fail(f"{ptr}/style", "must be one of primary, danger")
        elif kind in _SELECTS:
            if "placeholder" in el:
                self.text(el["placeholder"], f"{ptr}/placeholder", max_len=150, plain_only=True)
            if "options" in el:
                options = self.array(el["options"], f"{ptr}/options", max_items=100)
                for i, option in enumerate(options):
                    self.option(option, f"{ptr}/options/{i}")
        elif kind == "overflow":
            for i, option in enumerate(
                self.array(el.get("options"), f"{ptr}/options", max_items=5)
            ):
                self.option(option, f"{ptr}/options/{i}")
        elif kind in ("checkboxes", "radio_buttons"):
            for i, option in enumerate(
                self.array(el.get("options"), f"{ptr}/options", max_items=10)
            ):
                self.option(option, f"{ptr}/options/{i}")
        elif kind == "plain_text_input":
            self.plain_text_input(el, ptr)
        elif kind == "image":
            self.string(el.get("alt_text"), f"{ptr}/alt_text", max_len=2000, min_len=1)
            self.optional_string(el, "image_url", ptr, max_len=3000)
        elif kind not in _PLAIN_ELEMENTS:
            self.fail(f"{ptr}/type", f"unsupported element type: {kind!r}")

    def plain_text_input(self, el: dict[str, Any], ptr: str) -> None:
        if "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", max_len=150, plain_only=True)
        max_length = el.get("max_length", 3000)
        min_length = el.get("min_length", 0)
        if not isinstance(max_length, int) or not 1 <= max_length <= 3000:
            self.fail(f"{ptr}/max_length", "must be an integer from 1 to 3000")
            max_length = 3000
        if not isinstance(min_length, int) or not 0 <= min_length <= 3000:
            self.fail(f"{ptr}/min_length", "must be an integer from 0 to 3000")
        elif min_length > max_length:
            self.fail(f"{ptr}/min_length", "must not be greater than max_length")
        if "initial_value" in el:
            self.string(el["initial_value"], f"{ptr}/initial_value", max_len=max_length)

    def block(self, block: dict[str, Any], ptr: str) -> None:
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail(ptr, "must provide text or fields")
            if "text" in block:
                self.text(block["text"], f"{ptr}/text", max_len=3000)
            if "fields" in block:
                fields = self.array(block["fields"], f"{ptr}/fields", max_items=10)
                for i, item in enumerate(fields):
                    self.text(item, f"{ptr}/fields/{i}", max_len=2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{ptr}/accessory")
        elif kind == "header":
            self.text(block.get("text"), f"{ptr}/text", max_len=150, plain_only=True)
        elif kind == "actions":
            elements = self.array(block.get("elements"), f"{ptr}/elements", max_items=25)
            seen: set[str] = set()
            for i, el in enumerate(elements):
                self.element(el, f"{ptr}/elements/{i}")
                action_id = el.get("action_id") if isinstance(el, dict) else None
                if isinstance(action_id, str):
                    if action_id in seen:
                        self.fail(f"{ptr}/elements/{i}/action_id", f"duplicate {action_id!r}")
                    seen.add(action_id)
        elif kind == "context":
            elements = self.array(block.get("elements"), f"{ptr}/elements", max_items=10)
            for i, el in enumerate(elements):
                el_ptr = f"{ptr}/elements/{i}"
                if isinstance(el, dict) and el.get("type") == "image":
                    self.element(el, el_ptr)
                else:
                    self.text(el, el_ptr, max_len=3000)
        elif kind == "input":
            self.text(block.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
            if "hint" in block:
                self.text(block["hint"], f"{ptr}/hint", max_len=2000, plain_only=True)
            self.element(block.get("element"), f"{ptr}/element")
        elif kind == "image":
            self.string(block.get("alt_text"), f"{ptr}/alt_text", max_len=2000, min_len=1)
            self.optional_string(block, "image_url", ptr, max_len=3000)
            if "title" in block:
                self.text(block["title"], f"{ptr}/title", max_len=2000, plain_only=True)
        elif kind == "markdown":
            self.string(block.get("text"), f"{ptr}/text", max_len=12_000, min_len=1)

    def blocks(self, blocks: object, ptr: str, *, max_blocks: int) -> None:
        items = self.array(blocks, ptr, max_items=max_blocks, min_items=0)
        block_ids: set[str] = set()
        for i, block in enumerate(items):
            b_ptr = f"{ptr}/{i}"
            if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
                kind = block.get("type") if isinstance(block, dict) else None
                self.fail(b_ptr, f"unsupported block type: {kind!r}")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.string(block_id, f"{b_ptr}/block_id", max_len=255, min_len=1)
                if isinstance(block_id, str):
                    if block_id in block_ids:
                        self.fail(f"{b_ptr}/block_id", f"duplicate block_id {block_id!r}")
                    block_ids.add(block_id)
            self.block(block, b_ptr)


def check_blocks(blocks: object, *, max_blocks: int = MESSAGE_MAX_BLOCKS) -> list[str]:
    """Problems with a message's ``blocks`` array, in Slack's wording; empty when valid."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", max_blocks=max_blocks)
    return checker.errors


def check_view(view: object) -> list[str]:
    """Problems with a ``view`` object (modal or home tab); empty when valid."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.fail("/view", "must be an object")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("/view/type", "must be one of modal, home")
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                checker.text(view[key], f"/view/{key}", max_len=24, plain_only=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and "submit" not in view:
            checker.fail("/view/submit", "is required when the view has input blocks")
    checker.optional_string(view, "callback_id", "/view", max_len=255)
    checker.optional_string(view, "private_metadata", "/view", max_len=3000)
    checker.optional_string(view, "external_id", "/view", max_len=255)
    checker.blocks(view.get("blocks"), "/view/blocks", max_blocks=MODAL_MAX_BLOCKS)
    return checker.errors
