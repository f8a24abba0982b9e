"""Which dict keys name a secret, so that their values are replaced whole.

A value under ``password``, ``api_key``, ``clientSecret`` or ``Authorization`` is a secret
whatever it looks like, so the redactor replaces it as ``secret_field`` without searching it.
"""

from __future__ import annotations

import functools
import re
from typing import Final

_KEY_WORDS: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_SECRET_KEY_ENDINGS: Final = (
    *("password", "passwords", "passwd", "pwd", "passphrase", "secret", "secrets", "token"),
    *("apikey", "accesskey", "privatekey", "secretkey", "authorization", "cookie"),
    *("credential", "credentials"),
)
# Secrets only as the whole key: "pass" also ends "bypass" and "first_pass".
_SECRET_KEYS: Final = frozenset({"pass"})
_KEY_QUALIFIERS: Final = frozenset({"api", "access", "private", "secret", "signing", "ssh"})


@functools.lru_cache(maxsize=4096)
def is_secret_key(name: str) -> bool:
    """Tell whether a dict key names a secret, judging by its last word.

    The last word decides so that ``access_token`` and ``DB_PASSWORD`` are secrets while
    ``token_count``, ``max_tokens``, ``password_reset`` and ``password_reset_url``, numbers,
    flags and links that runs report all the time, are not.
    """
    if name.lower() in _SECRET_KEYS:
        return True
    words = _KEY_WORDS.findall(name)
    if not words:
        return False
    last = words[-1].lower()
    if last.endswith(_SECRET_KEY_ENDINGS):
        return True
    return last == "key" and len(words) > 1 and words[-2].lower() in _KEY_QUALIFIERS
