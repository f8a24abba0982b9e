"""OTLP attribute values as JSON, with texts clipped to what a step keeps.

Attribute values are typed unions (``AnyValue``); the ledger stores JSON. Strings,
booleans and 64-bit integers carry over as they are; arrays and key-value lists become
lists and objects; bytes become base64 text; a double that is not finite (OpenTelemetry
allows NaN and infinities, no store keeps them in JSON) becomes its name, "NaN" or
"Infinity", so one odd value does not cost an export; NULs in texts and keys become
U+FFFD, as in native events (``workflows.bodies.json_values``). What comes out is storable as it
is, so the ingest path needs no second walk over it. A text longer than ``MAX_TEXT`` is
clipped, keeping its start and its end with a marker saying how much was cut: a step's
text fields hold no more than that natively either.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from typing import Any, Final

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from workflows.bodies.json_values import without_nul

MAX_TEXT: Final = 200_000
"""The longest text a step keeps in one field (``LongText`` of ``workflows.bodies.schemas``)."""
_HEAD: Final = 2_000


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` in at most ``limit`` characters: its start, a marker, and its end."""
    if len(text) <= limit:
        return text
    marker = "\n…[{} characters clipped]…\n"
    cut = len(text) - limit + len(marker.format(len(text)))
    head = min(_HEAD, limit // 2)
    return text[:head] + marker.format(cut) + text[head + cut :]


def any_value(value: AnyValue) -> Any:
    """One attribute value as JSON (see the module docstring)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return clip(without_nul(value.string_value))
    if kind == "int_value" or kind == "bool_value":
        return getattr(value, kind)
    if kind == "double_value":
        number = value.double_value
        if math.isfinite(number):
            return number
        return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """Key-value pairs as a dict; a key sent twice keeps its last value, as the SDKs do.

    Short strings without a NUL, most values, are taken as they are: this runs for every
    attribute of every span.
    """
    found: dict[str, Any] = {}
    for pair in pairs:
        value = pair.value
        if value.WhichOneof("value") == "string_value":
            text = value.string_value
            fits = len(text) <= MAX_TEXT and "\x00" not in text
            found[pair.key] = text if fits else clip(without_nul(text))
        else:
            found[pair.key] = any_value(value)
    if any("\x00" in key for key in found):
        return {without_nul(key): item for key, item in found.items()}
    return found
