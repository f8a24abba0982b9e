"""Packing lines of mrkdwn into as few sections as Slack's 3,000-character limit allows.

Used where a message lists many short items (the steps of a trace): one section per item
would hit the 50-block limit long before the text is long.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks._parts import SECTION_TEXT_MAX

#: Room in one section, with a margin for the joins.
PACK_ROOM = SECTION_TEXT_MAX - 10


def pack(texts: Sequence[str]) -> list[str]:
    """Join consecutive texts into as few sections as fit under Slack's limit."""
    sections: list[str] = []
    for text in texts:
        if sections and len(sections[-1]) + 1 + len(text) <= PACK_ROOM:
            sections[-1] += "\n" + text
        else:
            sections.append(text)
    return sections


class Packer:
    """The section count of texts packed as ``pack`` does, one text at a time.

    Packing is greedy and order matters, so texts taken from the end of a run are packed
    in reverse here; the count differs from packing them forwards by at most one section,
    which the caller corrects when it packs the real blocks with ``pack``.
    """

    def __init__(self) -> None:
        self.sections = 0
        self._open = 0  # length of the section being filled

    def sections_with(self, text: str) -> int:
        if self.sections and self._open + 1 + len(text) <= PACK_ROOM:
            return self.sections
        return self.sections + 1

    def add(self, text: str) -> None:
        if self.sections and self._open + 1 + len(text) <= PACK_ROOM:
            self._open += 1 + len(text)
        else:
            self.sections += 1
            self._open = len(text)
