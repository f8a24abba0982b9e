"""The built-in detectors, one per kind, in precedence order.

Each :class:`Detector` pairs a kind's regex with the check that accepts or narrows a match
(see ``checks``) and with the cheap tests that decide whether the regex runs at all. The
order of ``BUILTIN`` is the precedence explained in the package docstring: when matches
overlap, the one from the earlier detector is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from workflows.redaction import checks
from workflows.redaction.checks import Check

SECRET_FIELD: Final = "secret_field"  # noqa: S105 - the name of a kind, not a secret
DIGITS: Final = "0123456789"


@dataclass(frozen=True, slots=True)
class Detector:
    """One kind: its regex, and the cheap checks that decide where to run it, if at all."""

    kind: str
    pattern: re.Pattern[str]
    check: Check = checks.whole
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
_STRIPE: Final = re.compile(
    r"(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,})(?![A-Za-z0-9])"
)
_GOOGLE: Final = re.compile(r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")
_AWS_ACCESS: Final = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET: Final = re.compile(
    r"(?i:secret[_.-]?(?:access[_.-]?)?key)"
    + _LABEL
    + r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_AUTH_HEADER: Final = re.compile(
    r"(?i:authorization)"
    + _LABEL
    + r"(?:(?P<scheme>(?i:bearer|basic|token|digest|negotiate|ntlm|bot|apikey|key|ssws|oauth|"
    r"aws4-hmac-sha256))[ \t]+)?(?P<secret>[^\s\"'`]+)"
)
_AUTH: Final = re.compile(r"(?i:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]+=*)")
_URL_PASSWORD: Final = re.compile(r"://[^\s:/?#@\[\]\"'<>]*:(?P<secret>[^\s/?#\[\]\"'<>]+)@")
# A quoted value runs to its closing quote (escaped ones too, as in JSON logged inside a
# JSON string); a bare one is a token here, and checks.labelled runs a password on.
_LABELLED: Final = re.compile(
    r"(?P<label>(?i:password|passwd|passphrase|pwd|secret|token|api[_-]?key|"
    r"access[_-]?key|private[_-]?key|secret[_-]?key|credentials?))"
    r"(?:\\?[\"'])?[ \t]*(?:[:=]|=>)[ \t]*"
    r"(?:\\\"(?P<escaped>(?:[^\"\\\r\n]|\\[^\"\r\n])*)"
    r"|\"(?P<double>(?:[^\"\\\r\n]|\\.)*)"
    r"|'(?P<single>(?:[^'\\\r\n]|\\.)*)"
    r"|(?P<bare>[^\s\"'`,;&<>(){}\[\]]+))"
)
_IBAN: Final = re.compile(r"[A-Z][A-Z][0-9][0-9](?: ?[A-Z0-9]){11,34}")
_CARD_NUMBER: Final = re.compile(r"[2-6][0-9](?:[ -]?[0-9]){11,17}(?![ -]?[0-9])")
_EMAIL: Final = re.compile(  # from the "@" on; checks.email finds the local part
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
_LABELS: Final = ("pass", "pwd", "secret", "token", "api", "access", "private", "credential")
_SCHEMES: Final = ("bearer", "basic")
_HEADER: Final = ("authorization",)
_GITHUB_PREFIXES: Final = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
_STRIPE_PREFIXES: Final = ("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_")
_IBAN_SHAPE: Final = _shape("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")
_CARD_SHAPE: Final = _shape(DIGITS + " -")
_PHONE_SHAPE: Final = _shape(DIGITS + " ().+-")

# kind, regex, check on a match, characters (one needed), literals (one needed), more
BUILTIN: Final = (
    Detector("private_key", _PRIVATE_KEY, checks.whole, "K", ("PRIVATE KEY",), min_len=30),
    Detector("slack_webhook", _WEBHOOK, checks.webhook, "/", ("hooks.slack.com",), min_len=30),
    Detector("jwt", _JWT, checks.token, "J", ("eyJ",), min_len=24),
    Detector("github_token", _GITHUB, checks.token, "_", _GITHUB_PREFIXES, min_len=40),
    Detector("slack_token", _SLACK_TOKEN, checks.token, "x", ("xox", "xapp-"), min_len=14),
    Detector("openai_key", _OPENAI, checks.openai_key, "k", ("sk-",), min_len=23),
    Detector("stripe_key", _STRIPE, checks.token, "_", _STRIPE_PREFIXES, min_len=24),
    Detector("google_api_key", _GOOGLE, checks.token, "A", ("AIza",), min_len=39),
    Detector("aws_access_key", _AWS_ACCESS, checks.token, "A", ("AKIA", "ASIA"), min_len=20),
    Detector("aws_secret_key", _AWS_SECRET, checks.secret, ":=", anchors=("secret",), min_len=50),
    Detector("authorization", _AUTH_HEADER, checks.auth_header, ":=", anchors=_HEADER, min_len=20),
    Detector("authorization", _AUTH, checks.auth, " \t", anchors=_SCHEMES, min_len=14),
    Detector("url_password", _URL_PASSWORD, checks.secret, "@", ("://",), min_len=10),
    Detector(SECRET_FIELD, _LABELLED, checks.labelled, ":=", anchors=_LABELS, min_len=8),
    Detector("iban", _IBAN, checks.iban, DIGITS, shape=_IBAN_SHAPE, min_len=15),
    Detector("card_number", _CARD_NUMBER, checks.card, DIGITS, shape=_CARD_SHAPE, min_len=13),
    Detector("email", _EMAIL, checks.email, "@", min_len=6),
    Detector("phone", _PHONE, checks.phone, DIGITS, shape=_PHONE_SHAPE, min_len=7),
)
BUILTIN_KINDS: Final = frozenset(detector.kind for detector in BUILTIN)
