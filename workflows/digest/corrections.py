"""What reviewers keep correcting: the most repeated change across a week's edit diffs.

A reviewer who fixes the same thing in every draft is telling the team what the prompt
gets wrong. Whole changed lines rarely repeat (each draft is different), so each changed
line pair is compared word by word and the changed *phrases* are counted: "Dear" → "Hi"
in forty different greetings counts forty times.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"\S+")
_PHRASE_MAX = 120


@dataclass(frozen=True, slots=True)
class Correction:
    """A change reviewers made, and in how many places."""

    before: str
    """The words taken out (empty for an addition)."""
    after: str
    """The words put in (empty for a removal)."""
    count: int


def _hunk_pairs(diff: str) -> Iterable[tuple[str, str]]:
    """(removed line, added line) pairs of a unified diff; unpaired lines pair with ""."""
    removed: list[str] = []
    added: list[str] = []

    def flush() -> Iterable[tuple[str, str]]:
        for index in range(max(len(removed), len(added))):
            yield (
                removed[index] if index < len(removed) else "",
                added[index] if index < len(added) else "",
            )
        removed.clear()
        added.clear()

    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            yield from flush()
        elif line.startswith("-"):
            if added:
                yield from flush()
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:
            yield from flush()
    yield from flush()


def _normal(words: list[str]) -> str:
    return " ".join(words).strip().lower()[:_PHRASE_MAX]


def changed_phrases(diff: str) -> Iterable[tuple[str, str]]:
    """Every (before, after) phrase an edit diff changed, lowercased."""
    for old, new in _hunk_pairs(diff):
        old_words, new_words = _WORD.findall(old), _WORD.findall(new)
        matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            if tag != "equal":
                before, after = _normal(old_words[a0:a1]), _normal(new_words[b0:b1])
                if before or after:
                    yield before, after


def top_corrections(diffs: Iterable[str], *, limit: int) -> list[Correction]:
    """The ``limit`` changes made most often across ``diffs`` (each counted once per diff)."""
    counts: Counter[tuple[str, str]] = Counter()
    for diff in diffs:
        counts.update(set(changed_phrases(diff)))
    return [
        Correction(before=before, after=after, count=count)
        for (before, after), count in counts.most_common(limit)
    ]


def most_repeated_correction(diffs: Iterable[str]) -> Correction | None:
    """The change made most often across ``diffs`` (counted once per diff), if any."""
    found = top_corrections(diffs, limit=1)
    return found[0] if found else None
