"""Error fingerprints: the same failure with different details groups as one.

"timeout after 30 s for invoice 123" and "timeout after 31 s for invoice 456" are one
problem for the person on call, so the values that change from run to run (numbers, IDs,
UUIDs, hex, timestamps, e-mail addresses, URLs and quoted values) are replaced by
placeholders before hashing. What stays is the wording the code that raised the error
wrote, which is what identifies where it came from.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

#: The normalised text is cut here: the start of an error says what failed, and a
#: fingerprint must not depend on how much of a long stack trace an automation sent.
NORMALISED_MAX = 400

# Order matters: wider patterns go first, so a URL is not half-eaten by the number rule.
_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`[^`\n]*`"
            r"|\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019"
        ),
        "<q>",
    ),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "<url>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (
        re.compile(
            r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE
        ),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2})?)?\b|\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b"
        ),
        "<ts>",
    ),
    (re.compile(r"\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    # A number with its unit (1.5s, 200ms, 30MB, 99%) is a number, not an identifier.
    (re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:ms|s|m|h|d|kb|mb|gb|k|%)?(?![\w.])", re.I), "<n>"),
    # Identifiers with digits in them: run_01JDZ3K6, INV-2024-0042, req4f9a, user42.
    (re.compile(r"\b(?=[\w-]*\d)[A-Za-z_]+[\w-]*\d[\w-]*\b|\b\d+[A-Za-z_][\w-]*\b"), "<id>"),
    (re.compile(r"[-+]?\d+(?:[.,]\d+)*"), "<n>"),
)
_SPACE = re.compile(r"\s+")


def normalise_error(text: str) -> str:
    """The error with its changing values replaced by placeholders, lowercased, one line."""
    normalised = text.strip()
    for pattern, placeholder in _REPLACEMENTS:
        normalised = pattern.sub(placeholder, normalised)
    return _SPACE.sub(" ", normalised).lower()[:NORMALISED_MAX]


@lru_cache(maxsize=4096)
def fingerprint(text: str) -> str:
    """A short stable hash of ``normalise_error(text)``: equal for errors that group.

    Cached: the alert tick fingerprints the same recent errors every 30 seconds.
    """
    return hashlib.sha256(normalise_error(text).encode()).hexdigest()[:16]
