"""The redactor: walks a value and replaces what the detectors find, by precedence."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from workflows.redaction.detectors import BUILTIN, DIGITS, SECRET_FIELD, Detector
from workflows.redaction.keys import is_secret_key
from workflows.redaction.policy import PERSONAL_KINDS, RedactionPolicy, validate_custom_pattern

_PLACEHOLDER: Final = re.compile(r"\[REDACTED:[^\]\s]{1,64}\]")
_DIGIT_SET: Final = frozenset(DIGITS)
_NINES: Final = tuple(b"9" * length for length in range(64))


def placeholder(kind: str) -> str:
    """Return the text that replaces a match of ``kind``."""
    return f"[REDACTED:{kind}]"


def fit(text: str, limit: int) -> str:
    """Cut redacted text back to ``limit`` characters, ending in "…" when it was cut.

    A placeholder can be longer than what it replaced (``pwd=abcd`` becomes
    ``pwd=[REDACTED:secret_field]``), so text that fitted a bounded column may no longer.
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted copy of a value, and how many of each kind were removed from it.

    ``value`` has the shape of the input (dicts, lists and tuples stay what they were), but
    not always its types: a number under a secret key becomes a placeholder string.
    """

    value: object
    counts: dict[str, int]

    @property
    def fields(self) -> dict[str, Any]:
        """``value`` as a mapping, for callers that redacted a dict of named fields."""
        if not isinstance(self.value, dict):
            raise TypeError("fields is only for a redacted dict")
        return self.value


_RUN_ON_MIN: Final = 4  # what is left of a cut password must still look like one
_CACHE_SIZE: Final = 8192  # clean keys and values remembered, each
_CACHE_LEN: Final = 128  # longer values rarely repeat: not worth remembering
_GATE_LEN: Final = 64  # up to here one set operation beats a search per character

Ranked = tuple[tuple[int, Detector], ...]
Groups = tuple[tuple[str, Ranked], ...]  # detectors by the characters they need


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to try on strings of one length: the detectors that fit, grouped by need."""

    groups: Groups
    gate: frozenset[str] | None  # without one of these, only ``digit_groups`` can match
    digit_groups: Groups  # the groups that need nothing but a digit


def _build_plans(detectors: list[Detector]) -> tuple[_Plan | None, ...]:
    """Plan for every string length, up to the longest minimum; the last serves the rest."""
    plans: list[_Plan | None] = []
    for length in range(max(detector.min_len for detector in detectors) + 1):
        groups: dict[str, list[tuple[int, Detector]]] = {}
        for rank, detector in enumerate(detectors):
            if detector.min_len <= length:
                groups.setdefault(detector.needs, []).append((rank, detector))
        ranked = tuple((needs, tuple(members)) for needs, members in groups.items())
        others = [needs for needs in groups if needs != DIGITS]
        gate = None if "" in groups else frozenset("".join(others))
        digits = tuple(group for group in ranked if group[0] == DIGITS)
        plans.append(_Plan(ranked, gate, digits) if groups else None)
    return tuple(plans)


class Redactor:
    """Redacts values for one workflow; build it once, as its regexes are compiled here.

    One redactor may serve many tasks and threads: what it remembers between calls is
    only which keys and short strings were clean, kept in a dict and a set.
    """

    __slots__ = ("_clean", "_keys", "_plans", "_run_on", "policy")

    def __init__(self, policy: RedactionPolicy | None = None) -> None:
        self.policy = policy or RedactionPolicy()
        personal = {PERSONAL_KINDS[name] for name in self.policy.personal}
        detectors = [d for d in BUILTIN if d.kind not in _PERSONAL or d.kind in personal]
        detectors += [
            Detector(name, validate_custom_pattern(name, pattern))
            for name, pattern in self.policy.custom
        ]
        self._plans = _build_plans(detectors)
        # Ranks whose matches run on past spaces (bare passwords): cut, not dropped, when
        # they run into a secret kept before them ("password=hunter2 and sk-...").
        self._run_on = frozenset(rank for rank, d in enumerate(detectors) if d.run_on)
        self._keys: dict[object, bool] = {}  # clean key -> whether it names a secret
        self._clean: set[str] = set()

    def redact(self, value: object) -> Redacted:
        """Return a redacted copy of ``value`` (never changed in place) and the counts."""
        counts: dict[str, int] = {}
        return Redacted(self._walk(value, counts), counts)

    def _walk(self, value: object, counts: dict[str, int]) -> object:
        if isinstance(value, str):
            return self._string(value, counts)
        if isinstance(value, dict):
            return self._mapping(value, counts, conceal=False)
        if isinstance(value, list):
            return [self._walk(item, counts) for item in value]
        if type(value) in _SCALARS:
            return value
        if isinstance(value, tuple):
            return tuple(self._walk(item, counts) for item in value)
        if isinstance(value, Mapping):  # rarer containers must not smuggle text past
            return self._mapping(dict(value), counts, conceal=False)
        if isinstance(value, set | frozenset):
            return type(value)(self._walk(item, counts) for item in value)
        return value

    def _mapping(
        self, value: dict[object, object], counts: dict[str, int], *, conceal: bool
    ) -> dict[object, object]:
        # The hot loop of the walk: scalars and remembered strings never leave it.
        out: dict[object, object] = {}
        known, clean = self._keys, self._clean
        pair = ("value" in value or "Value" in value) and _names_a_secret(value)
        for key, item in value.items():
            secret = known.get(key)
            if secret is None:
                key, secret = self._key(key, counts, out)
            if secret or conceal or (pair and key in _VALUE_FIELDS):
                item = self._conceal(item, counts)
            elif type(item) is str:
                if item not in clean:
                    item = self._string(item, counts)
            elif type(item) not in _SCALARS:
                item = self._walk(item, counts)
            out[key] = item
        return out

    def _key(
        self, key: object, counts: dict[str, int], out: dict[object, object]
    ) -> tuple[object, bool]:
        if not isinstance(key, str):
            return key, False
        secret = is_secret_key(key)
        redacted = self._string(key, counts)
        if redacted is key:
            if len(self._keys) >= _CACHE_SIZE:
                self._keys.clear()
            self._keys[key] = secret
        elif redacted in out:  # two redacted keys must not overwrite each other
            redacted = f"{redacted} ({len(out) + 1})"
        return redacted, secret

    def _conceal(self, value: object, counts: dict[str, int]) -> object:
        """Replace every string and number under a secret key, whatever it looks like."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, str | int | float):
            if value == "" or (isinstance(value, str) and _PLACEHOLDER.fullmatch(value)):
                return value
            counts[SECRET_FIELD] = counts.get(SECRET_FIELD, 0) + 1
            return placeholder(SECRET_FIELD)
        if isinstance(value, dict):
            return self._mapping(value, counts, conceal=True)
        if isinstance(value, list | tuple):
            return type(value)(self._conceal(item, counts) for item in value)
        return value

    def _string(self, text: str, counts: dict[str, int]) -> str:
        size, plans = len(text), self._plans
        plan = plans[size] if size < len(plans) else plans[-1]
        if plan is None:
            return text
        groups = plan.groups
        if size <= _GATE_LEN and plan.gate is not None and plan.gate.isdisjoint(text):
            # Most short strings stop here, at the cost of one set operation.
            if not plan.digit_groups or _DIGIT_SET.isdisjoint(text):
                return text
            groups = plan.digit_groups
        if text in self._clean:
            return text
        redacted = self._text(text, counts, groups)
        if redacted is text and size <= _CACHE_LEN:
            if len(self._clean) >= _CACHE_SIZE:
                self._clean.clear()
            self._clean.add(text)
        return redacted

    def _text(self, text: str, counts: dict[str, int], groups: Groups) -> str:
        """Return ``text`` itself when nothing is found, so callers can tell by identity."""
        found: list[tuple[int, int, int, str]] = []  # rank, start, end, kind
        folded: str | None = None
        encoded: bytes | None = None
        for needs, members in groups:
            for char in needs:
                if char in text:
                    break
            else:
                if needs:
                    continue
            for rank, detector in members:
                if detector.shape is not None:  # one pass in C, before any search for literals
                    if encoded is None:
                        encoded = text.encode("utf-8", "replace")
                    if _NINES[detector.min_len] not in encoded.translate(detector.shape):
                        continue
                if detector.triggers:
                    for trigger in detector.triggers:
                        if trigger in text:
                            break
                    else:
                        continue
                matches: Iterable[re.Match[str]]
                if detector.anchors:
                    if folded is None:
                        folded = text.lower()
                        if len(folded) != len(text):  # a few non-ASCII letters grow
                            folded = _fold(text)
                    for anchor in detector.anchors:
                        if anchor in folded:
                            break
                    else:
                        continue
                    matches = _anchored(detector.pattern, text, folded, detector.anchors)
                else:
                    matches = detector.pattern.finditer(text)
                for match in matches:
                    span = detector.check(text, match)
                    if span is not None and span[0] < span[1]:
                        kind = (detector.kinds and match.lastgroup) or detector.kind
                        found.append((rank, *span, kind))
        if not found:
            return text
        if "[REDACTED:" in text:  # what is already redacted stays as it is, uncounted
            found += [(-1, *match.span(), "") for match in _PLACEHOLDER.finditer(text)]
        return self._replace(text, found, counts)

    def _replace(
        self, text: str, found: list[tuple[int, int, int, str]], counts: dict[str, int]
    ) -> str:
        """Keep matches by precedence, dropping any that overlaps one kept before it.

        A run-on password that runs into a kept match is cut before it instead, so the
        password still goes: its words up to there are its secret part.
        """
        starts: list[int] = []
        ends: list[int] = []
        kinds: list[str] = []
        for rank, start, end, kind in sorted(found):
            at = bisect.bisect_right(starts, start)  # kept spans never overlap: sorted twice
            if at and ends[at - 1] > start:
                continue
            if at < len(starts) and starts[at] < end:
                if rank not in self._run_on:
                    continue
                end = len(text[start : starts[at]].rstrip()) + start
                if end - start < _RUN_ON_MIN:
                    continue
            starts.insert(at, start)
            ends.insert(at, end)
            kinds.insert(at, kind)
        if not any(kinds):
            return text
        pieces: list[str] = []
        cursor = 0
        for start, end, kind in zip(starts, ends, kinds, strict=True):
            if kind:
                pieces += (text[cursor:start], placeholder(kind))
                counts[kind] = counts.get(kind, 0) + 1
            else:
                pieces.append(text[cursor:end])
            cursor = end
        pieces.append(text[cursor:])
        return "".join(pieces)


# Headers, environment variables and tags are often logged as a list of name/value pairs:
# {"name": "Authorization", "value": "Token ..."}, {"Key": "DB_PASSWORD", "Value": ...}.
_NAME_FIELDS: Final = ("name", "Name", "key", "Key", "header", "field")
_VALUE_FIELDS: Final = frozenset({"value", "Value"})


def _names_a_secret(pair: dict[object, object]) -> bool:
    """Tell whether a name/value pair names a secret, so its value is hidden like a key's."""
    for field in _NAME_FIELDS:
        name = pair.get(field)
        if isinstance(name, str):
            return is_secret_key(name)
    return False


def _fold(text: str) -> str:
    """Lowercase ``text`` letter by letter, keeping those that would grow, so indices hold."""
    return "".join(char if len(char.lower()) != 1 else char.lower() for char in text)


def _anchored(
    pattern: re.Pattern[str], text: str, folded: str, anchors: tuple[str, ...]
) -> Iterable[re.Match[str]]:
    """Try ``pattern`` only where an anchor word starts, as a scan of every position is slow."""
    for anchor in anchors:
        at = folded.find(anchor)
        while at >= 0:
            match = pattern.match(text, at)
            if match is not None:
                yield match
            # Like finditer, go on after a match, or "password=password=..." turns quadratic.
            at = folded.find(anchor, at + 1 if match is None else max(match.end(), at + 1))


_PERSONAL: Final = frozenset(PERSONAL_KINDS.values())
_SCALARS: Final = frozenset({int, float, bool, type(None)})
