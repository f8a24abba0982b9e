"""Checks for secrets known by where they stand: command lines, cookies, JSON text.

Like ``checks``, each takes a detector's match and returns the span to replace, or None.
These read around the match (the command a flag belongs to, the key a JSON value sits
under, the header a cookie is sent in), always within a bounded distance, so a hostile
string costs time in proportion to its length.
"""

from __future__ import annotations

import re
from typing import Final

from workflows.redaction.checks import NOT_SECRET_VALUES, Span, starts_word, token
from workflows.redaction.keys import is_secret_key

_QUOTED: Final = ("double", "single", "bare")


def _value(match: re.Match[str]) -> tuple[str, int] | None:
    """The option's or header's value, unquoted, and where it starts."""
    group = next((name for name in _QUOTED if match[name] is not None), None)
    if group is None:
        return None
    return match[group], match.start(group)


def vendor(text: str, match: re.Match[str]) -> Span | None:
    """Accept a prefixed key that starts a word; a trailing full stop ends the sentence."""
    span = token(text, match)
    if span is None:
        return None
    start, end = span
    while end > start and text[end - 1] == ".":
        end -= 1
    return start, end


def telegram(text: str, match: re.Match[str]) -> Span | None:
    """A bot token stands alone or right after ``/bot`` in an API URL."""
    start = match.start()
    if starts_word(text, start) or text.endswith("/bot", 0, start):
        return match.span()
    return None


_SAS_CONTEXT: Final = 1000


def sas(text: str, match: re.Match[str]) -> Span | None:
    """A ``sig=`` is an Azure shared access signature where ``sv=`` (its version) is near."""
    start = match.start()
    if start and text[start - 1] not in "?&;":
        return None
    around = text[max(0, start - _SAS_CONTEXT) : start]
    return match.span("secret") if "sv=" in around else None


def datadog(text: str, match: re.Match[str]) -> Span | None:
    return match.span("secret") if starts_word(text, match.start()) else None


def cookie(text: str, match: re.Match[str]) -> Span | None:
    """A ``Cookie`` header loses its whole value; a ``Set-Cookie`` one its first value only.

    ``Set-Cookie: session=abc; Path=/; HttpOnly`` keeps the cookie's name and attributes,
    which say what was set and how, and loses ``abc``. A value with no ``=`` is prose
    ("cookie: chocolate chip"), not a header.
    """
    found = _value(match)
    if found is None:
        return None
    value, start = found
    if "=" not in value:
        return None
    head = match.start()
    if text[max(0, head - 4) : head].lower() == "set-":
        first = value.split(";", 1)[0]
        equals = first.index("=") if "=" in first else -1
        if equals < 0 or not first[equals + 1 :].strip():
            return None
        return start + equals + 1, start + len(first.rstrip())
    if not starts_word(text, head):
        return None
    return start, start + len(value.rstrip())


# Option names that carry a secret: a whole name, or the last word of one (--db-password).
_OPTION_NAMES: Final = frozenset(
    {"password", "passwd", "passphrase", "pass", "pwd", "secret", "token", "apikey",
     "api-key", "api_key", "passin", "passout", "storepass", "keypass", "srcstorepass",
     "deststorepass", "srckeypass", "destkeypass"}
)  # fmt: skip
_OPTION_ENDINGS: Final = tuple(
    separator + word
    for separator in "-_"
    for word in ("password", "passwd", "passphrase", "secret", "token", "api-key")
)
_OPTION_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_OPTION_MAX = 48
# What follows a flag in prose or documentation, not a secret: "the --token flag".
_PROSE: Final = frozenset(
    {"flag", "flags", "option", "options", "argument", "arguments", "parameter", "is", "was",
     "and", "or", "to", "with", "without", "when", "for", "of", "in", "on", "the", "a", "an",
     "that", "which", "must", "should", "can", "not", "as", "instead", "if", "are", "be"}
)  # fmt: skip
# A value that only points at the secret: $VAR, ${VAR}, %VAR%, <password>, env:NAME...
_REFERENCES: Final = ("$", "%", "<", "env:", "file:", "fd:", "stdin", "***", "...")


def _argument(value: str, start: int) -> Span | None:
    """The span of an option's argument if it may be a secret, skipping openssl's ``pass:``."""
    if value.startswith("pass:"):
        value, start = value[5:], start + 5
    if (
        not value
        or value.startswith(_REFERENCES)
        or value.lower() in NOT_SECRET_VALUES
        or value.lower() in _PROSE
    ):
        return None
    return start, start + len(value)


def cli_option(text: str, match: re.Match[str]) -> Span | None:
    """Accept the argument of an option named like a secret: ``--password X``, ``--token=X``.

    The match starts at the label; the option's name is read back from there to its dashes
    (``--db-password``, ``-storepass``), and must be one a secret goes in. ``--no-password``,
    a value that starts another option, a variable (``$TOKEN``) or a word of prose (``the
    --token flag``) are not secrets; neither is ffmpeg's ``-pass 1``.
    """
    label_start = match.start()
    start = label_start
    while start > max(0, label_start - _OPTION_MAX) and text[start - 1] in _OPTION_CHARS:
        start -= 1
    option = text[start : label_start + _label_length(match)]
    if not option.startswith("-") or not (start == 0 or text[start - 1] in " \t\"'(=\n"):
        return None
    name = option.lstrip("-").lower()
    if name.startswith("no-") or not (name in _OPTION_NAMES or name.endswith(_OPTION_ENDINGS)):
        return None
    found = _value(match)
    if found is None:
        return None
    value, value_start = found
    if match["bare"] is not None and value.startswith("-"):
        return None
    if name == "pass" and value.isdigit():
        return None  # ffmpeg -pass 1: the pass of a two-pass encode
    return _argument(value, value_start)


def _label_length(match: re.Match[str]) -> int:
    """How long the label at the start of a ``cli_option`` match is (up to "=" or a blank)."""
    text = match[0]
    for at, char in enumerate(text):
        if char in "= \t":
            return at
    return len(text)


_MYSQL: Final = frozenset(
    {"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck", "mariadb",
     "mariadb-dump", "mariadb-admin"}
)  # fmt: skip
_COMMANDS: Final = _MYSQL | {"sshpass", "redis-cli", "curl"}
_COMMAND_REACH = 300
_COMMAND_STEMS: Final = ("mysql", "mariadb", "sshpass", "redis-cli", "curl")


def _command(text: str, flag_start: int) -> str | None:
    """The last command named before the flag in its simple command (after ``;``, ``|``...).

    ``docker exec db mysql -pX`` and ``ssh host mysql -pX`` are mysql's; the search stops at
    the line, pipe or list boundary before the flag, and at most 300 characters back.
    """
    floor = max(0, flag_start - _COMMAND_REACH)
    start = max(floor, max(text.rfind(sep, floor, flag_start) for sep in "\n;|&(`") + 1)
    segment = text[start:flag_start]
    if not any(stem in segment for stem in _COMMAND_STEMS):  # most flags stop here, in C
        return None
    named = None
    for word in segment.split():
        name = word.rsplit("/", 1)[-1]
        if name in _COMMANDS:
            named = name
    return named


def cli_flag(text: str, match: re.Match[str]) -> Span | None:
    """Accept a short flag's password where its command says it is one, and nowhere else.

    ``-p`` is a port for docker and ssh and a prompt in ``mysql -p dbname``, so the rule is
    precise: mysql's family takes the password glued (``-pX``), sshpass after ``-p``
    either way, redis-cli after ``-a``, and curl after ``-u``/``--user`` behind the user
    name (``alice:X``). The command is read back on the same line, at most 300 characters.
    """
    start = match.start()
    if start and text[start - 1] not in " \t":
        return None
    found = _value(match)
    if found is None:
        return None
    value, value_start = found
    command = _command(text, start)
    flag, gap = match["flag"], match["gap"]
    if flag == "-p":
        if not (command in _MYSQL and gap is None) and not (command == "sshpass" and gap != "="):
            return None
    elif flag == "-a":
        if command != "redis-cli":
            return None
    elif command != "curl" or ":" not in value:
        return None
    else:
        colon = value.index(":") + 1
        value, value_start = value[colon:], value_start + colon
    if match["bare"] is not None and value.startswith("-"):
        return None
    return _argument(value, value_start)


_NAME_FIELDS: Final = frozenset({"name", "Name", "key", "Key", "header", "field"})
_PAIR_VALUE: Final = re.compile(
    r"[ \t]*,[ \t\r\n]*(?P<esc>\\?)\"(?:value|Value)(?P=esc)\"[ \t]*:[ \t]*"
    r"(?P=esc)\"(?P<value>(?:[^\"\\\r\n]|\\.)*?)(?P=esc)\""
)
_PASSWORD_KEYS: Final = ("pass", "pwd")


def _accept(value: str, start: int, *, password: bool) -> Span | None:
    if not value or value.lower() in NOT_SECRET_VALUES or value.startswith("[REDACTED:"):
        return None
    if not password and " " in value and value.replace(" ", "").isalpha() and value.islower():
        return None  # prose under a "token" key: {"token": "end of text"}
    return start, start + len(value)


def json_field(text: str, match: re.Match[str]) -> Span | None:
    """Accept a value under a key named like a secret in JSON text, as a dict's key would.

    A draft or a logged body is often a JSON object written as a string; its keys are
    judged by ``is_secret_key``, and a ``{"name": "API_KEY", "value": ...}`` pair hides its
    value, exactly as the same object passed as a dict would.
    """
    key = match["key"]
    value = match["value"]
    if key in _NAME_FIELDS and value is not None and is_secret_key(value):
        pair = _PAIR_VALUE.match(text, match.end())
        if pair is None:
            return None
        return _accept(pair["value"], pair.start("value"), password=True)
    if not is_secret_key(key):
        return None
    password = key.lower().rsplit("_", 1)[-1].startswith(_PASSWORD_KEYS)
    if value is not None:
        return _accept(value, match.start("value"), password=password)
    return _accept(match["number"], match.start("number"), password=True)
