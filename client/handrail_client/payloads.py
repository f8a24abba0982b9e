"""Making what a run records safe to send: JSON it can encode, in requests the server takes.

One odd value must never cost a run its trace, so values are made JSON-safe as a step is
recorded (a snapshot, too: mutating the object afterwards changes nothing):

- what JSON has (str, bool, None, float, and ints that fit in a signed 64-bit integer) is
  kept; dicts, lists and tuples are walked, and dict keys become strings;
- common Python values become what JSON APIs usually write for them: datetimes, dates and
  times their ISO 8601 text, UUIDs and Decimals their text, enums their value, sets and
  frozensets lists, dataclasses dicts, bytes their UTF-8 text, and objects with a pydantic
  style ``model_dump()`` what it returns;
- floats JSON cannot hold (NaN, infinities) become ``null``;
- ints beyond 64 bits become their decimal string (JSON parsers and the stores do not all
  agree on them), anything else its ``repr()``, a self-referencing container
  ``"[circular reference]"`` and strings with lone surrogates have them replaced by ``?``.

The server refuses a body over ``HANDRAIL_MAX_BODY_BYTES`` (1 MiB by default), so each
step is encoded once, here, and batches are packed by encoded size. A step that would not
fit a request on its own has its largest fields clipped, with a visible marker
(``…[clipped 1,234,567 chars]``) saying how much was cut.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
MAX_DEPTH: Final = 200
#: ``{"events":[`` and ``]}`` around the events of a batch.
BATCH_ENVELOPE: Final = len(b'{"events":[]}')
#: Fields that may be clipped to fit, in the order they give way when equally large.
CLIPPABLE: Final = ("output", "input", "settings", "error", "result")
_KEEP_HEAD: Final = 2_000  # of an error: the start of the traceback, then its end


#: A step as the API takes it: ``type``, ``name`` and the optional fields of API v1's event.
Event = dict[str, Any]


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as sent on the wire; ``value`` must be JSON-safe already."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw)


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that JSON can always encode (see the module docstring)."""
    return _safe(value, (), converted=False)


def _safe(value: Any, path: tuple[int, ...], *, converted: bool) -> Any:
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str:
        return _valid_text(value)
    if kind is int:
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if kind in (dict, list, tuple):
        if id(value) in path:
            return "[circular reference]"
        if len(path) >= MAX_DEPTH:
            return _valid_text(repr(value))
        inner = (*path, id(value))
        if kind is dict:
            return {
                _key(key): _safe(item, inner, converted=converted) for key, item in value.items()
            }
        return [_safe(item, inner, converted=converted) for item in value]
    if not converted:
        try:
            plain = _plain(value)
        except Exception:  # a model_dump() or a property that raises: fall back to repr
            plain = _UNKNOWN
        if plain is not _UNKNOWN:
            return _safe(plain, path, converted=True)
    return _valid_text(repr(value))


_UNKNOWN: Final = object()


def _plain(value: Any) -> Any:
    """What JSON APIs write for a common Python value, or ``_UNKNOWN``."""
    if isinstance(value, enum.Enum):
        return value.value
    for base in (bool, int, float, str):  # subclasses of the JSON types become the type
        if isinstance(value, base):
            return base(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, set | frozenset | list | tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json")
    return _UNKNOWN


def _key(key: object) -> str:
    if isinstance(key, str):
        return _valid_text(key)
    safe = _safe(key, (), converted=False)
    return safe if isinstance(safe, str) else _valid_text(str(safe))


def _valid_text(text: str) -> str:
    if text.isascii():  # the common case, answered without encoding
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: UTF-8 cannot hold them
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """A step as it will be sent: the event, and its JSON, encoded once."""

    event: Event
    raw: bytes


def encode_event(event: Mapping[str, Any], *, max_bytes: int) -> EncodedEvent:
    """Make the event JSON-safe and fit it in ``max_bytes``; the returned event matches.

    Fields left ``None`` are not sent. The values are not checked here: the server checks
    them and answers a wrong one with ``InvalidRequest`` naming the field.
    """
    document: Event = json_safe({k: v for k, v in event.items() if v is not None})
    raw, _ = fit_document(document, max_bytes=max_bytes)
    return EncodedEvent(document, raw)


def fit_document(document: dict[str, Any], *, max_bytes: int) -> tuple[bytes, set[str]]:
    """Encode ``document``, first clipping its largest clippable fields (in place) to fit.

    Returns the JSON and the names of the fields that were clipped.
    """
    raw = dumps(document)
    clipped: set[str] = set()
    for _ in range(len(CLIPPABLE) * 4):
        excess = len(raw) - max_bytes
        if excess <= 0:
            break
        sizes = {f: len(dumps(document[f])) for f in CLIPPABLE if f in document}
        field = max(sizes, key=lambda f: sizes[f], default=None)
        if field is None or sizes[field] <= 256:
            break  # nothing left worth clipping: the server will say why it refuses
        target = max(sizes[field] - excess, 256)
        document[field] = clip_value(document[field], target, field=field)
        clipped.add(field)
        raw = dumps(document)
    return raw, clipped


def clip_value(value: Any, max_bytes: int, *, field: str) -> Any:
    """``value`` cut to about ``max_bytes`` of JSON, with a marker saying how much went."""
    if isinstance(value, str):
        return clip_text(value, max_bytes, keep_tail=field == "error")
    text = dumps(value).decode("utf-8")
    clipped = clip_text(text, max_bytes - 16, keep_tail=False, what="chars of JSON")
    return {"clipped": clipped} if field == "settings" else clipped


def clip_text(text: str, max_bytes: int, *, keep_tail: bool, what: str = "chars") -> str:
    """Keep as much of ``text`` as fits in ``max_bytes`` once JSON-encoded, and say so.

    Errors keep their head and their tail (the exception message is at the end); other
    text keeps its start.
    """
    encoded = len(dumps(text))
    if encoded <= max_bytes:
        return text
    per_char = encoded / max(len(text), 1)
    keep = max(int((max_bytes - 64) / per_char), 0)
    while True:
        clipped = _cut(text, keep, keep_tail=keep_tail, what=what)
        if keep == 0 or len(dumps(clipped)) <= max_bytes:
            return clipped
        keep = math.floor(keep * 0.9)


def _cut(text: str, keep: int, *, keep_tail: bool, what: str) -> str:
    marker = f"…[clipped {len(text) - keep:,} {what}]"
    if keep_tail and keep > _KEEP_HEAD:
        tail = keep - _KEEP_HEAD
        return f"{text[:_KEEP_HEAD]}\n{marker}\n{text[len(text) - tail :]}"
    return text[:keep] + marker


def batch_length(events: list[EncodedEvent], *, max_count: int, max_bytes: int) -> int:
    """How many events from the start of ``events`` go in one request (at least one)."""
    size = BATCH_ENVELOPE
    for taken, event in enumerate(events[:max_count]):
        size += len(event.raw) + (1 if taken else 0)
        if size > max_bytes and taken:
            return taken
    return min(len(events), max_count)


def batch_body(events: list[EncodedEvent]) -> bytes:
    """The request body for a batch, from the events' JSON as encoded once."""
    return b'{"events":[' + b",".join(event.raw for event in events) + b"]}"
