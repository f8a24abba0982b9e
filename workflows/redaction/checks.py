"""Checks on a detector's match: the span to replace, or None to reject it.

A regex finds candidates; these decide. They verify what a pattern cannot express
(Luhn for card numbers, the registry length and mod-97 for IBANs, a mix of digits and
both cases for random keys), make sure a match is not the inside of a longer token, and
narrow a match to the secret it carries (the value after ``password=``, not the label).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

Span = tuple[int, int]
Check = Callable[[str, "re.Match[str]"], Span | None]


def whole(text: str, match: re.Match[str]) -> Span | None:
    return match.span()


def secret(text: str, match: re.Match[str]) -> Span | None:
    return match.span("secret")


def starts_word(text: str, start: int, also: str = "") -> bool:
    """Tell whether ``start`` is not inside a longer token (regex lookbehinds are slower)."""
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in also)


def token(text: str, match: re.Match[str]) -> Span | None:
    return match.span() if starts_word(text, match.start(), "_-") else None


def webhook(text: str, match: re.Match[str]) -> Span | None:
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


def openai_key(text: str, match: re.Match[str]) -> Span | None:
    return token(text, match) if _mixed(match["body"]) else None


NOT_SECRET_VALUES: Final = frozenset({"null", "none", "true", "false", "undefined", "nil"})


def _credential(value: str) -> bool:
    """Tell a credential from a word: long enough, with a digit, a symbol or mixed case."""
    if len(value) < 8:
        return False
    upper, lower = sum(c.isupper() for c in value), sum(c.islower() for c in value)
    return any(c.isdigit() or c in "+/=_~" for c in value) or (upper >= 2 and lower >= 2)


def auth(text: str, match: re.Match[str]) -> Span | None:
    """Accept a credential, not an English word after "basic" or "bearer".

    Sixteen or more lowercase letters after "bearer" are a random token too: no word that
    long follows "bearer" in prose, while "basic responsibilities" can.
    """
    value = match["secret"]
    if not starts_word(text, match.start()):
        return None
    if _credential(value) or (len(value) >= 16 and match[0][:6].lower() == "bearer"):
        return match.span("secret")
    return None


# Schemes whose credentials are lists of parameters (username="...", response="...") run to
# the end of the line; the others carry one token.
_LINE_END: Final = re.compile(r"[ \t]*(?:[\r\n]|\Z)")
_PARAMETER_SCHEMES: Final = frozenset({"digest", "oauth", "aws4-hmac-sha256"})


def auth_header(text: str, match: re.Match[str]) -> Span | None:
    """Accept what an ``Authorization:`` header carries, whatever its scheme.

    After a scheme word (``Token``, ``Bearer``, ``Digest``...) the credential is taken
    whatever it looks like. Without one, only a token that looks like a credential is:
    "authorization: approved" is a payment's status.
    """
    start, end = match.span("secret")
    scheme = match["scheme"]
    if scheme is None:
        return (start, end) if _credential(match["secret"]) else None
    if scheme.lower() in _PARAMETER_SCHEMES:
        found = _LINE_END.search(text, end)
        end = found.start() if found is not None else len(text)
    value = text[start:end]
    if len(value) < 4 or value.lower() in NOT_SECRET_VALUES:
        return None
    return start, end


_PASSWORD_LABELS: Final = ("pass", "pwd")
_QUOTED: Final = ("escaped", "double", "single")
# Where a bare password ends: at the end of the line, a ";" (connection strings), a double
# quote or backquote, a single quote that closes a phrase, or before the next label
# ("&user=", ", user:", " user="). Not at "&" or "," alone: passwords hold those.
_PASSWORD_END: Final = re.compile(
    r"[ \t]*(?:[\r\n;\"`]|'(?![A-Za-z0-9])|\Z"
    r"|(?:[&,][ \t]*|[ \t]+)[A-Za-z_][\w.-]*[\"']?[ \t]*(?:[:=]|=>))"
)


# Where a URL-encoded value ends: an encoded "&", quote, comma, ";" or "}", or a real "&".
_ENCODED_END: Final = re.compile(r"%(?:26|22|2[Cc]|3[Bb]|7[Dd])|&")


def _bare_pass(text: str, match: re.Match[str]) -> bool:
    """Tell whether a bare "pass" label is a word of its own that a value is assigned to.

    ``pass=…`` and ``DB_PASS=…`` are; ``bypass=true``, ``first_pass=done`` and "boarding
    pass: gate 12" are not.
    """
    start = match.start()
    if match["encoded"] is None and ":" in match[0][4:]:
        return False
    if start and text[start - 1] == "_":
        return match["label"].isupper()
    return starts_word(text, start)


def labelled(text: str, match: re.Match[str]) -> Span | None:
    """Accept the value after ``password=``, but not prose such as "token: noun".

    A quoted value runs to its closing quote. A bare password or passphrase runs on past
    spaces, since "correct horse battery staple" is one secret and redacting its first
    word would leak the rest; other bare values (tokens, keys) are one token. A URL-encoded
    one (``password%3Dp%40ss%26next%3D1``) ends where the encoded ``&`` is.
    """
    label = match["label"].lower()
    if label == "pass" and not _bare_pass(text, match):
        return None
    password = label.startswith(_PASSWORD_LABELS)
    quoted = next((group for group in _QUOTED if match[group] is not None), None)
    start, end = match.span(quoted or "bare")
    if match["encoded"] is not None:
        found = _ENCODED_END.search(text, start, end)
        end = found.start() if found is not None else end
    elif quoted is None and password:
        found = _PASSWORD_END.search(text, end)
        end = found.start() if found is not None else len(text)
    value = text[start:end]
    if len(value) < 4 or value.lower() in NOT_SECRET_VALUES:
        return None
    if not password and value.replace(" ", "").isalpha() and value.islower():
        return None
    if label == "pwd" and value.startswith(("/", "~")):
        return None  # PWD=/home/alice is the shell's working directory, not a password
    return start, end


_EMAIL_LOCAL: Final = re.compile(r"[A-Za-z0-9._%+-]{1,64}\Z")


def email(text: str, match: re.Match[str]) -> Span | None:
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


def phone(text: str, match: re.Match[str]) -> Span | None:
    if not starts_word(text, match.start(), "._+-/\\$#,"):
        return None
    shortest = 8 if match[0][0] == "+" else 7  # with a country code
    return match.span() if shortest <= sum(c.isdigit() for c in match[0]) <= 15 else None


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (1 + position % 2)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# Issuer prefixes and the lengths their cards have (ISO/IEC 7812 ranges the networks
# publish): Mir, Mastercard, Amex, Diners, JCB, Visa, Maestro, Discover and UnionPay. A run
# of digits that passes Luhn but fits no issuer is an order number, not a card.
_ISSUERS: Final = tuple(
    (range(low, high + 1), len(str(low)), frozenset(lengths))
    for low, high, lengths in (
        (2200, 2204, (16,)),
        (2221, 2720, (16,)),
        (34, 34, (15,)),
        (37, 37, (15,)),
        (300, 305, range(14, 20)),
        (3095, 3095, range(14, 20)),
        (36, 36, range(14, 20)),
        (38, 39, range(14, 20)),
        (3528, 3589, range(16, 20)),
        (4, 4, (13, 16, 19)),
        (51, 55, (16,)),
        (50, 50, range(12, 20)),
        (56, 59, range(16, 20)),
        (60, 60, range(16, 20)),
        (62, 65, range(16, 20)),
        (67, 67, range(16, 20)),
    )
)


def _issued(digits: str) -> bool:
    """Tell whether some issuer gives out card numbers with this prefix and length."""
    return any(
        len(digits) in lengths and int(digits[:size]) in prefixes
        for prefixes, size, lengths in _ISSUERS
    )


def card(text: str, match: re.Match[str]) -> Span | None:
    start, found = match.start(), match[0]
    if not starts_word(text, start, ".,_-"):
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
    if len(set(digits)) == 1 or not _issued(digits) or not _luhn(digits):
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


def iban(text: str, match: re.Match[str]) -> Span | None:
    start = match.start()
    length = _IBAN_LENGTHS.get(match[0][:2])
    if length is None or not starts_word(text, start):
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
