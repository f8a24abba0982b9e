"""Make JSON from a request storable the same way on SQLite and PostgreSQL.

JSON allows values neither store keeps: integers of any size (orjson, which writes every
JSON column, stops at 64 bits), ``NaN``/``Infinity`` (written back as null), and NUL
characters (PostgreSQL refuses them in text and JSONB; SQLite keeps them). Numbers are
refused with their exact place, so the caller can fix them; a NUL, usually a stray byte
in a tool's output, becomes U+FFFD so no batch is lost to it and both stores agree. What
Slack sends passes no schema (the API refuses a lone surrogate as invalid JSON), so there
a lone surrogate becomes U+FFFD as well.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Location = tuple[int | str, ...]

_INT_OUT_OF_RANGE = PydanticCustomError(
    "int_out_of_range",
    "Input should be a whole number from {min} to {max} (64 bits) to be stored",
    {"min": INT64_MIN, "max": INT64_MAX},
)


class UnstorableNumber(ValueError):
    """A number no store keeps; :func:`unstorable_numbers` says where."""


def without_nul(text: str) -> str:
    """``text`` with every NUL replaced by U+FFFD, the character for "unrepresentable"."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


_UNREPRESENTABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """``text`` with every NUL and lone surrogate replaced by U+FFFD.

    JSON may escape half of a surrogate pair on its own (``"\\ud800"``); Python keeps it
    in a string, but no UTF-8 text can hold it, so no store and no driver can either.
    """
    return _UNREPRESENTABLE.sub("\ufffd", text)


def replace_unstorable(value: Any) -> Any:
    """``value`` with :func:`storable_text` applied to its keys and strings, containers
    changed in place.

    For what Slack sends (commands, clicks, modal submissions): its numbers are Slack's own,
    so only text is made storable, and the parsed body keeps its identity for its readers.
    """
    kind = type(value)
    if kind is str:
        return storable_text(value)
    if kind is dict:
        items = [(storable_text(key), replace_unstorable(item)) for key, item in value.items()]
        value.clear()
        value.update(items)
    elif kind is list:
        value[:] = [replace_unstorable(item) for item in value]
    return value


def storable_json(value: Any) -> Any:
    """``value`` with NULs replaced in keys and strings, or :class:`UnstorableNumber`.

    Containers are changed in place: they were parsed from this request and belong to
    nobody else. Values that are not JSON (a nested model, a datetime) are left alone.
    This walk runs for every event, so it builds no locations; the rare refusal walks
    again with :func:`unstorable_numbers` to say where.
    """
    kind = type(value)
    if kind is str:
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise UnstorableNumber(value)
    elif kind is float:
        if not math.isfinite(value):
            raise UnstorableNumber(value)
    elif kind is dict:
        renamed = False
        for key, item in value.items():
            renamed = renamed or "\x00" in key
            value[key] = storable_json(item)
        if renamed:
            return {without_nul(key): item for key, item in value.items()}
    elif kind is list:
        for index, item in enumerate(value):
            value[index] = storable_json(item)
    return value


def unstorable_numbers(value: Any, loc: Location) -> Iterator[InitErrorDetails]:
    """Each number in ``value`` that no store keeps, as a validation error at its place."""
    kind = type(value)
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        yield InitErrorDetails(type=_INT_OUT_OF_RANGE, loc=loc, input=value)
    elif kind is float and not math.isfinite(value):
        yield InitErrorDetails(type="finite_number", loc=loc, input=value)
    elif kind is dict:
        for key, item in value.items():
            yield from unstorable_numbers(item, (*loc, key))
    elif kind is list:
        for index, item in enumerate(value):
            yield from unstorable_numbers(item, (*loc, index))
