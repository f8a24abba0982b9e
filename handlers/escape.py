"""Make untrusted text safe to put inside Slack ``mrkdwn``, and cut it to fit.

Slack treats ``<...>`` as a control sequence: ``<!channel>`` pings a whole channel,
``<@U123>`` a person, ``<!subteam^S1>`` a group, and ``<http://evil|bank.com>`` shows one
address while linking to another. Slack's rule is to send ``&``, ``<`` and ``>`` as
``&amp;``, ``&lt;`` and ``&gt;``; then none of those can be formed by a model's output.

Two more things are done for readability-preserving defence in depth:

* a word joiner (U+2060, invisible) goes after the ``@`` of a literal ``@channel``,
  ``@here`` or ``@everyone``, so a client or a ``link_names`` flag can never turn the
  words into a broadcast;
* inside a code block, a run of three backticks gets word joiners between them, so the
  text cannot close our fence and continue as formatted markup.

Escaping makes text longer (``&`` is five characters once escaped) and Slack counts the
escaped length, so cutting happens here too, on whole characters, never mid-entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_JOINER = "\u2060"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
# One unit per match: a broadcast "@", a fence of three backticks, or any single character.
_UNITS = re.compile(
    r"(?P<broadcast>@(?=(?:channel|here|everyone)\b))|(?P<fence>```)|(?P<char>.)",
    re.IGNORECASE | re.DOTALL,
)


def escape_mrkdwn(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` and defuse literal broadcast words.

    Apply to every interpolated string that did not come from Handrail itself.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + _JOINER, escaped)


def escape_code(text: str) -> str:
    """Escape like ``escape_mrkdwn`` and keep the text from closing a code block."""
    return escape_mrkdwn(text).replace("```", f"`{_JOINER}`{_JOINER}`")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cut:
    """Escaped text that fits a budget, and how much of the original it holds."""

    text: str
    """The escaped text, at most the budget in length."""
    shown: int
    """How many characters of the original text are in ``text``."""
    total: int
    """How many characters the original text had."""

    @property
    def is_cut(self) -> bool:
        """Whether part of the original text was left out."""
        return self.shown < self.total


def cut_escaped(text: str, budget: int, *, code: bool = False) -> Cut:
    """Escape ``text`` (as ``escape_code`` when ``code``) and keep the longest prefix that fits.

    ``budget`` counts escaped characters, as Slack does. The prefix ends on a whole
    character, so an entity such as ``&amp;`` is never split.
    """
    escape = escape_code if code else escape_mrkdwn
    whole = escape(text)
    if len(whole) <= budget:
        return Cut(text=whole, shown=len(text), total=len(text))
    parts: list[str] = []
    used = 0
    shown = 0
    for match in _UNITS.finditer(text):
        unit = match.group()
        if match.lastgroup == "broadcast":
            piece = "@" + _JOINER
        elif match.lastgroup == "fence":
            piece = f"`{_JOINER}`{_JOINER}`" if code else unit
        else:
            piece = _ENTITIES.get(unit, unit)
        if used + len(piece) > budget:
            break
        parts.append(piece)
        used += len(piece)
        shown += len(unit)
    return Cut(text="".join(parts), shown=shown, total=len(text))
