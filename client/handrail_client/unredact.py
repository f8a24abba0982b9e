"""Putting redacted values back into a reviewer's text, from the draft the client sent.

Handrail stores drafts redacted (``[REDACTED:phone]``), so that is what a reviewer sees and
edits. The automation still holds its original draft, so the client can restore what was
cut, but only where there is exactly one answer:

1. The original draft is aligned with the server's redacted copy: the literal text between
   placeholders must appear in the original in order, and a value is recovered when every
   way of aligning the two agrees on where it starts and ends (the leftmost and rightmost
   alignments are computed and compared).
2. Each placeholder in the reviewer's text takes a value when all the recovered values of
   its kind are one and the same; otherwise when the nearest word before it (or after it),
   with what lies between, is found next to exactly one placeholder of its kind in the
   redacted draft.
   Anything else is left as it is and reported as unresolved.

A reviewer never sees the redacted values, so a value typed in the edit is the reviewer's
own and is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

#: Mirrors ``workflows.redaction.redactor``: what the server puts in place of a value.
PLACEHOLDER: Final = re.compile(r"\[REDACTED:([^\]\s]{1,64})\]")
_TOKEN: Final = re.compile(r"\[REDACTED:[^\]\s]{1,64}\]|\w+|\s+|[^\w\s]")
_WORD: Final = re.compile(r"\w+")
#: At most this many tokens (words, runs of spaces, signs) are looked at on each side of a
#: placeholder for the nearest word.
CONTEXT: Final = 4


@dataclass(frozen=True, slots=True)
class Slot:
    """One placeholder in the redacted draft, and the original value if it is certain."""

    kind: str
    value: str | None


def recover_slots(original: str, redacted: str) -> list[Slot]:
    """The redacted draft's placeholders in order, each with its value when unambiguous."""
    parts = PLACEHOLDER.split(redacted)
    literals, kinds = parts[0::2], parts[1::2]
    unknown = [Slot(kind, None) for kind in kinds]
    if not kinds:
        return []
    first, last = literals[0], literals[-1]
    if (
        not original.startswith(first)
        or not original.endswith(last)
        or len(original) < len(first) + len(last) + len(kinds)
    ):
        return unknown
    leftmost = _leftmost(original, literals)
    rightmost = _rightmost(original, literals)
    if leftmost is None or rightmost is None:
        return unknown
    slots = []
    for index, kind in enumerate(kinds):
        certain = (
            leftmost[index] == rightmost[index] and leftmost[index + 1] == rightmost[index + 1]
        )
        begin = leftmost[index] + len(literals[index])
        value = original[begin : leftmost[index + 1]] if certain else None
        slots.append(Slot(kind, value))
    return slots


def _leftmost(original: str, literals: list[str]) -> list[int] | None:
    """Where each literal starts when every value is as short as it can be."""
    starts = [0]
    position = len(literals[0])
    for literal in literals[1:-1]:
        found = original.find(literal, position + 1)  # a value is never empty
        if found < 0:
            return None
        starts.append(found)
        position = found + len(literal)
    end = len(original) - len(literals[-1])
    if position + 1 > end:
        return None
    return [*starts, end]


def _rightmost(original: str, literals: list[str]) -> list[int] | None:
    """Where each literal starts when every value is as long as it can be."""
    end = len(original) - len(literals[-1])
    starts = [end]
    for literal in reversed(literals[1:-1]):
        found = original.rfind(literal, 0, end - 1)
        if found < 0:
            return None
        starts.append(found)
        end = found
    if end - 1 < len(literals[0]):
        return None
    return [0, *reversed(starts)]


def restore(text: str, *, original: str, redacted: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with the placeholders it can restore filled in, and the kinds left over."""
    if PLACEHOLDER.search(text) is None:
        return text, ()
    slots = recover_slots(original, redacted)
    draft = _Contexts(redacted)
    edit = _Contexts(text)
    unresolved: list[str] = []
    pieces: list[str] = []
    cursor = 0
    for number, match in enumerate(PLACEHOLDER.finditer(text)):
        kind = match.group(1)
        value = _only_value(slots, kind)
        if value is None:
            slot = _tie(edit, number, draft, [i for i, s in enumerate(slots) if s.kind == kind])
            value = slots[slot].value if slot is not None else None
        pieces.append(text[cursor : match.start()])
        if value is None:
            unresolved.append(kind)
            pieces.append(match.group(0))
        else:
            pieces.append(value)
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces), tuple(unresolved)


def _only_value(slots: list[Slot], kind: str) -> str | None:
    values = {slot.value for slot in slots if slot.kind == kind}
    if len(values) == 1:
        return values.pop()  # None when that single value could not be recovered
    return None


class _Contexts:
    """What sits on each side of every placeholder in a text, up to the nearest word."""

    def __init__(self, text: str) -> None:
        tokens = _TOKEN.findall(text)
        at = [i for i, token in enumerate(tokens) if PLACEHOLDER.fullmatch(token)]
        self.left = [_up_to_word(reversed(tokens[max(i - CONTEXT, 0) : i])) for i in at]
        self.right = [_up_to_word(tokens[i + 1 : i + 1 + CONTEXT]) for i in at]


def _up_to_word(tokens: Iterable[str]) -> tuple[str, ...] | None:
    """The tokens out from a placeholder up to the first word; ``None`` if none is near."""
    seen: list[str] = []
    for token in tokens:
        seen.append(token)
        if _WORD.fullmatch(token):
            return tuple(seen)
    return None


def _tie(edit: _Contexts, number: int, draft: _Contexts, candidates: list[int]) -> int | None:
    """The one draft placeholder whose nearest words the edit kept, if there is one.

    Left and right are tried apart (a reviewer often changes one side); a side that fits
    several candidates, or the two sides naming different ones, ties nothing.
    """
    ties: set[int] = set()
    for ours, theirs in ((edit.left, draft.left), (edit.right, draft.right)):
        if ours[number] is None:
            continue
        found = [c for c in candidates if theirs[c] == ours[number]]
        if len(found) == 1:
            ties.add(found[0])
    return ties.pop() if len(ties) == 1 else None


def placeholder_kinds(text: str) -> tuple[str, ...]:
    """The kinds of the placeholders in ``text``, in order."""
    return tuple(match.group(1) for match in PLACEHOLDER.finditer(text))
