"""Redaction of secrets and personal data before anything is stored.

Every string Handrail keeps from an automation (event inputs and outputs, errors, prompts,
metadata) passes through a :class:`Redactor` first, so the ledger can be read, exported and
quoted in Slack without leaking the credentials and personal data that automations log.

Secrets are always redacted. Personal-data kinds and custom patterns are opted into per
workflow through :class:`RedactionPolicy`, because some workflows are *about* an email
address or a phone number and their reviewers need to see it.

Each match becomes ``[REDACTED:<kind>]`` and is counted under its kind; counts never carry
values. Every detector looks at the original string, then the matches are resolved by
precedence, so one secret is replaced and counted once, under its most specific kind; a
match that overlaps one of higher precedence is dropped:

1. text already reading ``[REDACTED:...]``, so redacting twice changes nothing;
2. ``private_key``: a whole PEM block, whatever it contains;
3. formats that name themselves: ``slack_webhook``, ``jwt``, ``github_token``,
   ``slack_token``, ``openai_key``, ``aws_access_key``, ``aws_secret_key``;
4. secrets known by their context: ``authorization`` (after ``Bearer``/``Basic``),
   ``url_password`` (``scheme://user:password@host``) and ``secret_field`` (after a label
   such as ``password=``), so ``Bearer eyJ...`` counts as one ``jwt``;
5. personal data, when on: ``iban`` and ``card_number`` (checksums verified), ``email``,
   ``phone``;
6. custom patterns, in the order configured.

Dict values under a key named like a secret (``password``, ``api_key``, ``clientSecret``,
``Authorization``...) are replaced whole, as ``secret_field``, whatever they look like.

This runs on the hot ingestion path, so a :class:`Redactor` compiles everything once per
workflow and a regex runs only after cheap checks pass: a minimum length, a character the
kind cannot do without (one set operation rules out most short strings), a literal such as
``"AKIA"``, an anchor word such as ``bearer``, or a long enough run of digits. Dict keys
and short values repeat from event to event, so those found clean are remembered. Custom
patterns have no such checks and run on every string: keep them simple.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

PERSONAL_KINDS: Final[Mapping[str, str]] = {
    "emails": "email",
    "phones": "phone",
    "card_numbers": "card_number",
    "ibans": "iban",
}
"""The personal-data names a policy may turn on, and the kind each one reports."""

SECRET_FIELD: Final = "secret_field"  # noqa: S105 - the name of a kind, not a secret
_PLACEHOLDER: Final = re.compile(r"\[REDACTED:[^\]\s]{1,64}\]")
_DIGITS: Final = "0123456789"
_DIGIT_SET: Final = frozenset(_DIGITS)
_NINES: Final = tuple(b"9" * length for length in range(64))

Span = tuple[int, int]
Check = Callable[[str, "re.Match[str]"], Span | None]


def placeholder(kind: str) -> str:
    """Return the text that replaces a match of ``kind``."""
    return f"[REDACTED:{kind}]"


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


def validate_custom_pattern(name: str, pattern: str) -> re.Pattern[str]:
    """Compile a workflow's custom pattern, or raise ValueError saying what is wrong."""
    if not name.strip() or name in _BUILTIN_KINDS:
        raise ValueError(
            f"custom redaction pattern {pattern!r} needs a name of its own, not {name!r}"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(
            f"custom redaction pattern {name!r} ({pattern!r}) does not compile: {error}"
        ) from None
    if compiled.fullmatch("") is not None:
        raise ValueError(f"custom redaction pattern {name!r} ({pattern!r}) matches nothing")
    return compiled


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    """What a workflow redacts beyond the secrets, which are always redacted."""

    personal: frozenset[str] = frozenset()
    custom: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(self.personal - PERSONAL_KINDS.keys())
        if unknown:
            known = ", ".join(["secrets", *PERSONAL_KINDS])
            raise ValueError(f"unknown redaction kinds {unknown}: expected some of {known}")
        names = [name for name, _ in self.custom]
        if len(set(names)) != len(names):
            raise ValueError(f"custom redaction pattern names repeat: {names}")
        for name, pattern in self.custom:
            validate_custom_pattern(name, pattern)

    @classmethod
    def from_config(
        cls, kinds: Iterable[str], custom: Mapping[str, str] | None = None
    ) -> RedactionPolicy:
        """Build a policy from a workflow's ``redact:`` list (``secrets`` is always on)."""
        personal = frozenset(kind for kind in kinds if kind != "secrets")
        return cls(personal=personal, custom=tuple((custom or {}).items()))


# --- key names --------------------------------------------------------------------------

_KEY_WORDS: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_SECRET_KEY_ENDINGS: Final = (
    *("password", "passwords", "passwd", "passphrase", "secret", "secrets", "token"),
    *("apikey", "accesskey", "privatekey", "secretkey", "authorization", "cookie"),
    *("credential", "credentials"),
)
_KEY_QUALIFIERS: Final = frozenset({"api", "access", "private", "secret", "signing", "ssh"})


@functools.lru_cache(maxsize=4096)
def is_secret_key(name: str) -> bool:
    """Tell whether a dict key names a secret, judging by its last word.

    The last word decides so that ``access_token`` and ``DB_PASSWORD`` are secrets while
    ``token_count``, ``max_tokens`` and ``password_reset``, numbers and flags that runs
    report all the time, are not.
    """
    words = _KEY_WORDS.findall(name)
    if not words:
        return False
    last = words[-1].lower()
    if last.endswith(_SECRET_KEY_ENDINGS):
        return True
    return last == "key" and len(words) > 1 and words[-2].lower() in _KEY_QUALIFIERS


# --- checks on a match: the span to replace, or None to reject it ------------------------


def _whole(text: str, match: re.Match[str]) -> Span | None:
    return match.span()


def _secret(text: str, match: re.Match[str]) -> Span | None:
    return match.span("secret")


def _starts_word(text: str, start: int, also: str = "") -> bool:
    """Tell whether ``start`` is not inside a longer token (regex lookbehinds are slower)."""
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in also)


def _token(text: str, match: re.Match[str]) -> Span | None:
    return match.span() if _starts_word(text, match.start(), "_-") else None


def _webhook(text: str, match: re.Match[str]) -> Span | None:
    start = match.start()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme, start - len(scheme)):
            return start - len(scheme), match.end()
    return match.span()


def _mixed(value: str) -> bool:
    """Tell whether a value has digits and both cases, as random keys do and words do not."""
    return (
        any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


def _openai_key(text: str, match: re.Match[str]) -> Span | None:
    return _token(text, match) if _mixed(match["body"]) else None


def _auth(text: str, match: re.Match[str]) -> Span | None:
    """Accept a credential, not an English word after "basic" or "bearer"."""
    value = match["secret"]
    if len(value) < 8 or not _starts_word(text, match.start()):
        return None
    upper, lower = sum(c.isupper() for c in value), sum(c.islower() for c in value)
    if any(c.isdigit() or c in "+/=_~" for c in value) or (upper >= 2 and lower >= 2):
        return match.span("secret")
    return None


_NOT_SECRET_VALUES: Final = frozenset({"null", "none", "true", "false", "undefined", "nil"})


def _labelled(text: str, match: re.Match[str]) -> Span | None:
    """Accept the value after ``password=``, but not prose such as "token: noun"."""
    value = match["secret"]
    if len(value) < 4 or value.lower() in _NOT_SECRET_VALUES:
        return None
    if value.isalpha() and value.islower() and not match["label"].lower().startswith("pass"):
        return None
    return match.span("secret")


_EMAIL_LOCAL: Final = re.compile(r"[A-Za-z0-9._%+-]{1,64}\Z")


def _email(text: str, match: re.Match[str]) -> Span | None:
    """Extend a match that starts at "@" back over the local part (a leading one is slow)."""
    at = match.start()
    local = _EMAIL_LOCAL.search(text, max(0, at - 64), at)
    if local is None:
        return None
    start = local.start()
    while text[start] == ".":
        start += 1
    if text.endswith("://", 0, start):  # https://user@host names a user, not a mailbox
        return None
    return (start, match.end()) if start < at else None


def _phone(text: str, match: re.Match[str]) -> Span | None:
    if not _starts_word(text, match.start(), "._+-/\\$#,"):
        return None
    shortest = 8 if match[0][0] == "+" else 7  # with a country code
    return match.span() if shortest <= sum(c.isdigit() for c in match[0]) <= 15 else None


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (1 + position % 2)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(text: str, match: re.Match[str]) -> Span | None:
    start, found = match.start(), match[0]
    if not _starts_word(text, start, ".,_-"):
        return None
    if start >= 2 and text[start - 1] == " " and text[start - 2].isdigit():
        return None  # the tail of a longer number: "1234 4111 1111 1111 1111"
    groups = re.split(r"[ -]", found)
    digits = "".join(groups)
    if len(groups) > 1:
        sizes = [len(group) for group in groups]
        if ("-" in found and " " in found) or not (
            all(size == 4 for size in sizes[:-1]) or sizes in ([4, 6, 5], [4, 6, 4])
        ):
            return None
    if len(set(digits)) == 1 or not _luhn(digits):
        return None
    return match.span()


# Lengths from the SWIFT IBAN registry: checked before mod-97, they keep random shapes out
# and cut back a match that ran on into the next word.
_IBAN_LENGTHS: Final = {
    country: int(length)
    for country, length in re.findall(
        r"([A-Z]{2})([0-9]{2})",
        "NO15 BE16 DK18 FI18 FK18 FO18 GL18 NL18 SD18 MK19 SI19 AT20 BA20 EE20 KZ20 LT20 "
        "LU20 MN20 XK20 CH21 HR21 LI21 LV21 BG22 BH22 CR22 DE22 GB22 GE22 IE22 ME22 RS22 "
        "VA22 AE23 GI23 IL23 IQ23 OM23 SO23 TL23 AD24 CZ24 ES24 MD24 PK24 RO24 SA24 SE24 "
        "SK24 TN24 VG24 LY25 PT25 ST25 IS26 TR26 BI27 DJ27 FR27 GR27 IT27 MC27 MR27 SM27 "
        "AL28 AZ28 BY28 CY28 DO28 GT28 HU28 LB28 NI28 PL28 SV28 BR29 EG29 PS29 QA29 UA29 "
        "JO30 KW30 MU30 YE30 MT31 SC31 LC32 RU33",
    )
}


def _iban(text: str, match: re.Match[str]) -> Span | None:
    start = match.start()
    length = _IBAN_LENGTHS.get(match[0][:2])
    if length is None or not _starts_word(text, start):
        return None
    end, seen = start, 0
    while seen < length and end < match.end():
        seen += text[end] != " "
        end += 1
    if seen != length or (end < len(text) and text[end].isalnum()):
        return None
    groups = text[start:end].split(" ")
    if len(groups) > 1 and any(len(group) != 4 for group in groups[:-1]):
        return None
    compact = "".join(groups)
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(char, 36)) for char in rearranged)) % 97 != 1:
        return None
    return start, end


# --- detectors, in precedence order ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Detector:
    """One kind: its regex, and the cheap checks that decide where to run it, if at all."""

    kind: str
    pattern: re.Pattern[str]
    check: Check = _whole
    needs: str = ""  # one of these characters must occur ("" = no such check)
    triggers: tuple[str, ...] = ()  # one of these literals must occur
    anchors: tuple[str, ...] = ()  # match only where one of these occurs, in any case
    shape: bytes | None = None  # a table from _shape: matches are runs of certain chars
    min_len: int = 1


def _shape(chars: str) -> bytes:
    """Make a ``bytes.translate`` table that turns ``chars`` into "9" and the rest into "x".

    A string whose translation has no run of nines as long as a kind's shortest match
    cannot hold one, and bytes.translate tells that far sooner than a regex scan does.
    """
    return bytes(57 if chr(byte) in chars else 120 for byte in range(256))


# Where a regex starts with a literal the engine skips ahead fast; character classes and
# case-insensitive alternations cost far more, so those kinds are tried only at anchor
# words, or once bytes.translate shows a run long enough to hold them.
_LABEL: Final = r"[\"']?[ \t]*(?:[:=]|=>)[ \t]*[\"']?"
_PRIVATE_KEY: Final = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)"  # a cut-off key goes too
)
_WEBHOOK: Final = re.compile(
    r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,}"
)
# The lookbehind follows "eyJ" so the literal still leads the search, and the search does
# not restart inside a long run that has no dots (that was quadratic).
_JWT: Final = re.compile(
    r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
)
_GITHUB: Final = re.compile(
    r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{30,})(?![A-Za-z0-9])"
)
_SLACK_TOKEN: Final = re.compile(r"(?:xox[abeprs]|xapp)-[0-9][A-Za-z0-9-]{8,}")
_OPENAI: Final = re.compile(r"sk-(?:(?:proj|ant|svcacct|admin)-)?(?P<body>[A-Za-z0-9_-]{20,})")
_AWS_ACCESS: Final = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET: Final = re.compile(
    r"(?i:secret[_.-]?(?:access[_.-]?)?key)"
    + _LABEL
    + r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_AUTH: Final = re.compile(r"(?i:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]+=*)")
_URL_PASSWORD: Final = re.compile(r"://[^\s:/?#@\[\]\"'<>]*:(?P<secret>[^\s/?#\[\]\"'<>]+)@")
_LABELLED: Final = re.compile(
    r"(?P<label>(?i:password|passwd|passphrase|secret|token|api[_-]?key|"
    r"access[_-]?key|private[_-]?key|secret[_-]?key|credentials?))"
    + _LABEL
    + r"(?P<secret>[^\s\"'`,;&<>(){}\[\]]+)"
)
_IBAN: Final = re.compile(r"[A-Z][A-Z][0-9][0-9](?: ?[A-Z0-9]){11,34}")
_CARD_NUMBER: Final = re.compile(r"[2-6][0-9](?:[ -]?[0-9]){11,17}(?![ -]?[0-9])")
_EMAIL: Final = re.compile(  # from the "@" on; _email finds the local part
    r"@(?![0-9]+x\.)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_PHONE: Final = re.compile(
    r"(?:\+[0-9]{1,3}(?:[ .-][0-9]{1,10}){1,6}"  # +44 20 7946 0958
    r"|\+[0-9]{1,3}[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]{1,10}(?:[ .-][0-9]{1,10}){0,5}"
    r"|\+[0-9]{7,15}"  # +442079460958
    r"|00[0-9]{1,3}(?:[ .-][0-9]{1,10}){2,6}"  # 0044 20 7946 0958
    r"|\([0-9]{2,5}\)[ .-]?[0-9]{2,5}(?:[ .-][0-9]{2,5}){1,3}"  # (415) 555-0132
    r"|[2-9][0-9]{2}(?P<sep>[ .-])[2-9][0-9]{2}(?P=sep)[0-9]{4}"  # 415-555-0132
    r"|0[1-9](?:[ .][0-9]{2}){4}"  # 01 23 45 67 89
    r"|0[1-9][0-9]{0,3}[ -][0-9]{3,8}(?:[ -][0-9]{3,4})?"  # 020 7946 0958
    r")(?![0-9A-Za-z_]|[.-][0-9])"
)
_LABELS: Final = ("pass", "secret", "token", "api", "access", "private", "credential")
_SCHEMES: Final = ("bearer", "basic")
_GITHUB_PREFIXES: Final = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
_IBAN_SHAPE: Final = _shape("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")
_CARD_SHAPE: Final = _shape(_DIGITS + " -")
_PHONE_SHAPE: Final = _shape(_DIGITS + " ().+-")

# kind, regex, check on a match, characters (one needed), literals (one needed), more
_BUILTIN: Final = (
    _Detector("private_key", _PRIVATE_KEY, _whole, "K", ("PRIVATE KEY",), min_len=30),
    _Detector("slack_webhook", _WEBHOOK, _webhook, "/", ("hooks.slack.com",), min_len=30),
    _Detector("jwt", _JWT, _token, "J", ("eyJ",), min_len=24),
    _Detector("github_token", _GITHUB, _token, "_", _GITHUB_PREFIXES, min_len=40),
    _Detector("slack_token", _SLACK_TOKEN, _token, "x", ("xox", "xapp-"), min_len=14),
    _Detector("openai_key", _OPENAI, _openai_key, "k", ("sk-",), min_len=23),
    _Detector("aws_access_key", _AWS_ACCESS, _token, "A", ("AKIA", "ASIA"), min_len=20),
    _Detector("aws_secret_key", _AWS_SECRET, _secret, ":=", anchors=("secret",), min_len=50),
    _Detector("authorization", _AUTH, _auth, " \t", anchors=_SCHEMES, min_len=14),
    _Detector("url_password", _URL_PASSWORD, _secret, "@", ("://",), min_len=10),
    _Detector(SECRET_FIELD, _LABELLED, _labelled, ":=", anchors=_LABELS, min_len=8),
    _Detector("iban", _IBAN, _iban, _DIGITS, shape=_IBAN_SHAPE, min_len=15),
    _Detector("card_number", _CARD_NUMBER, _card, _DIGITS, shape=_CARD_SHAPE, min_len=13),
    _Detector("email", _EMAIL, _email, "@", min_len=6),
    _Detector("phone", _PHONE, _phone, _DIGITS, shape=_PHONE_SHAPE, min_len=7),
)
_BUILTIN_KINDS: Final = frozenset(detector.kind for detector in _BUILTIN)


# --- the redactor ------------------------------------------------------------------------

_CACHE_SIZE: Final = 8192  # clean keys and values remembered, each
_CACHE_LEN: Final = 128  # longer values rarely repeat: not worth remembering
_GATE_LEN: Final = 64  # up to here one set operation beats a search per character

Ranked = tuple[tuple[int, _Detector], ...]
Groups = tuple[tuple[str, Ranked], ...]  # detectors by the characters they need


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to try on strings of one length: the detectors that fit, grouped by need."""

    groups: Groups
    gate: frozenset[str] | None  # without one of these, only ``digit_groups`` can match
    digit_groups: Groups  # the groups that need nothing but a digit


def _build_plans(detectors: list[_Detector]) -> tuple[_Plan | None, ...]:
    """Plan for every string length, up to the longest minimum; the last serves the rest."""
    plans: list[_Plan | None] = []
    for length in range(max(detector.min_len for detector in detectors) + 1):
        groups: dict[str, list[tuple[int, _Detector]]] = {}
        for rank, detector in enumerate(detectors):
            if detector.min_len <= length:
                groups.setdefault(detector.needs, []).append((rank, detector))
        ranked = tuple((needs, tuple(members)) for needs, members in groups.items())
        others = [needs for needs in groups if needs != _DIGITS]
        gate = None if "" in groups else frozenset("".join(others))
        digits = tuple(group for group in ranked if group[0] == _DIGITS)
        plans.append(_Plan(ranked, gate, digits) if groups else None)
    return tuple(plans)


class Redactor:
    """Redacts values for one workflow; build it once, as its regexes are compiled here.

    One redactor may serve many tasks and threads: what it remembers between calls is
    only which keys and short strings were clean, kept in a dict and a set.
    """

    __slots__ = ("_clean", "_keys", "_plans", "policy")

    def __init__(self, policy: RedactionPolicy | None = None) -> None:
        self.policy = policy or RedactionPolicy()
        personal = {PERSONAL_KINDS[name] for name in self.policy.personal}
        detectors = [d for d in _BUILTIN if d.kind not in _PERSONAL or d.kind in personal]
        detectors += [
            _Detector(name, validate_custom_pattern(name, pattern))
            for name, pattern in self.policy.custom
        ]
        self._plans = _build_plans(detectors)
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
        for key, item in value.items():
            secret = known.get(key)
            if secret is None:
                key, secret = self._key(key, counts, out)
            if secret or conceal:
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
                if detector.triggers:
                    for trigger in detector.triggers:
                        if trigger in text:
                            break
                    else:
                        continue
                if detector.shape is not None:
                    if encoded is None:
                        encoded = text.encode("utf-8", "replace")
                    if _NINES[detector.min_len] not in encoded.translate(detector.shape):
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
                        found.append((rank, *span, detector.kind))
        if not found:
            return text
        if "[REDACTED:" in text:  # what is already redacted stays as it is, uncounted
            found += [(-1, *match.span(), "") for match in _PLACEHOLDER.finditer(text)]
        return self._replace(text, found, counts)

    @staticmethod
    def _replace(text: str, found: list[tuple[int, int, int, str]], counts: dict[str, int]) -> str:
        """Keep matches by precedence, dropping any that overlaps one kept before it."""
        starts: list[int] = []
        ends: list[int] = []
        kinds: list[str] = []
        for _, start, end, kind in sorted(found):
            at = bisect.bisect_right(starts, start)  # kept spans never overlap: sorted twice
            if (at and ends[at - 1] > start) or (at < len(starts) and starts[at] < end):
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
