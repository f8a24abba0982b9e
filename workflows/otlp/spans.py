"""One span as one step: what the conventions name is mapped, everything else is kept.

The step's client ID is the span ID (hex), so an export sent twice stores each span
once. Its type comes from the operation or kind (``conventions.STEP_TYPES``), its name is
the tool's name for a tool and the span's name otherwise; model, tokens, prompt (input)
and completion (output) come from the conventions' attributes; the ``gen_ai.request.*``
parameters become its settings. Attributes no convention claims, the span's other events,
its kind and parent are kept in the settings too (``attributes``, ``events``, ``otel``),
so nothing sent is dropped. A span with status ERROR or an ``exception`` event is a
failed step whose error is the full text: each exception's type, message and stack trace,
then the status message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from workflows.bodies.json_values import storable_json, without_nul
from workflows.otlp import conventions as names
from workflows.otlp.values import attributes, clip

SHORT: Final = 200
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_INDEX: Final = re.compile(r"(\d+)\.(.+)")
_KINDS: Final = {
    number: name.removeprefix("SPAN_KIND_").lower() for name, number in Span.SpanKind.items()
}


def time_of(unix_nano: int) -> datetime | None:
    """A span time as an aware datetime; zero is OTLP's "not set"."""
    return _EPOCH + timedelta(microseconds=unix_nano // 1000) if unix_nano else None


def span_step(span: Span, attrs: dict[str, Any]) -> dict[str, Any]:
    """The step a span records, as the fields of an event (``workflows.bodies.schemas.EventIn``).

    ``attrs`` are the span's attributes (``values.attributes``), which this consumes.
    """
    operation = _first(attrs, names.OPERATION)
    step_type = names.STEP_TYPES.get(str(operation), "note")
    tool = _first(attrs, names.TOOL_NAME)
    name = tool if step_type == "tool" and tool else without_nul(span.name)
    inputs, outputs, details, others = _events(span)
    error = _error_text(span, attrs)
    step: dict[str, Any] = {
        "id": span.span_id.hex(),
        "type": step_type,
        "name": clip(str(name) or "span", SHORT),
        "status": "error" if error is not None else "ok",
        "started_at": time_of(span.start_time_unix_nano),
        "ended_at": time_of(span.end_time_unix_nano),
        "model": _short(_first(attrs, names.MODEL)),
        "tokens_in": _first(attrs, names.TOKENS_IN),
        "tokens_out": _first(attrs, names.TOKENS_OUT),
        "input": _content(attrs, names.INPUT_ATTRIBUTES, names.INPUT_INDEXED, inputs, details),
        "output": _content(attrs, names.OUTPUT_ATTRIBUTES, names.OUTPUT_INDEXED, outputs, details),
        "error": error,
    }
    step["settings"] = _settings(span, attrs, others, operation)
    return step


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` present, removed with its aliases (they are mapped now)."""
    found = None
    for key in keys:
        if key in attrs:
            value = attrs.pop(key)
            if found is None:
                found = value
    return found


def _short(value: Any) -> str | None:
    return None if value is None else clip(str(value), SHORT)


def _parsed(value: Any) -> Any:
    """A JSON document sent as a string attribute (messages, tool arguments) as JSON.

    JSON can only carry a NUL escaped, so only a text with ``\\u0000`` needs walking.
    """
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return storable_json(parsed) if "\\u0000" in value else parsed
    return value


def _indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``prefix.0.role``, ``prefix.0.content``… as ``[{"role", "content"}, …]``, removed."""
    found: dict[int, dict[str, Any]] = {}
    for key in [key for key in attrs if key.startswith(prefix)]:
        match = _INDEX.fullmatch(key[len(prefix) :])
        if match:
            field = match[2].removeprefix("message.")
            found.setdefault(int(match[1]), {})[field] = attrs.pop(key)
    return [found[index] for index in sorted(found)]


def _content(
    attrs: dict[str, Any],
    keys: tuple[str, ...],
    prefixes: tuple[str, ...],
    messages: list[dict[str, Any]],
    details: dict[str, Any],
) -> Any:
    """The first source present: an attribute, indexed attributes, then message events.

    Only the source used is removed, so a second one stays among the attributes.
    """
    for key in keys:
        if key in attrs:
            return _parsed(attrs.pop(key))
        if key in details:
            return _parsed(details.pop(key))
    for prefix in prefixes:
        indexed = _indexed(attrs, prefix)
        if indexed:
            return indexed
    return messages or None


def _events(
    span: Span,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """Message events as prompt and completion messages; the inference-details event's
    attributes; and every other event but ``exception`` (read for the error), as sent."""
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    others: list[dict[str, Any]] = []
    for event in span.events:
        if event.name == names.EXCEPTION_EVENT:
            continue
        fields = attributes(event.attributes)
        role = names.INPUT_EVENTS.get(event.name)
        if role is not None:
            inputs.append(
                {"role": role, **{k.removeprefix("gen_ai."): v for k, v in fields.items()}}
            )
        elif event.name in names.OUTPUT_EVENTS:
            outputs.append({k.removeprefix("gen_ai."): v for k, v in fields.items()})
        elif event.name == names.DETAILS_EVENT:
            details.update(fields)
        else:
            at = time_of(event.time_unix_nano)
            others.append(
                {
                    "name": without_nul(event.name),
                    "time": at.isoformat() if at else None,
                    "attributes": fields,
                }
            )
    return inputs, outputs, details, others


def _error_text(span: Span, attrs: dict[str, Any]) -> str | None:
    """The full text of what went wrong, or None for a span that did not fail."""
    parts = []
    for event in span.events:
        if event.name == names.EXCEPTION_EVENT:
            fields = attributes(event.attributes)
            kind = fields.get("exception.type") or "exception"
            message = fields.get("exception.message") or ""
            text = f"{kind}: {message}" if message else str(kind)
            trace = fields.get("exception.stacktrace")
            parts.append(f"{text}\n{trace}".rstrip() if trace else text)
    if span.status.code == Status.STATUS_CODE_ERROR:
        message = without_nul(span.status.message)
        kind = attrs.get(names.ERROR_TYPE)
        if message and not any(message in part for part in parts):
            parts.append(f"{kind}: {message}" if kind and kind not in message else message)
        if not parts:
            parts.append(
                f"{kind}" if kind else f"'{without_nul(span.name)}' ended with status ERROR"
            )
    return clip("\n\n".join(parts)) if parts else None


def _settings(
    span: Span, attrs: dict[str, Any], events: list[dict[str, Any]], operation: Any
) -> dict[str, Any]:
    """Request parameters by their short names, then whatever else the span carried."""
    settings: dict[str, Any] = {}
    for key in [key for key in attrs if key.startswith(names.REQUEST_SETTINGS)]:
        settings[key.removeprefix(names.REQUEST_SETTINGS)] = attrs.pop(key)
    parameters = _parsed(attrs.pop(names.INVOCATION_PARAMETERS, None))
    if isinstance(parameters, dict):
        for key, value in parameters.items():
            settings.setdefault(key, value)
    elif parameters is not None:
        settings["invocation_parameters"] = parameters
    otel: dict[str, Any] = {"kind": _KINDS.get(span.kind, str(span.kind))}
    if operation is not None:
        otel["operation"] = operation
    if span.parent_span_id:
        otel["parent_span_id"] = span.parent_span_id.hex()
    if span.status.code == Status.STATUS_CODE_OK:
        otel["status"] = "ok"
    settings["otel"] = otel
    if attrs:
        settings["attributes"] = attrs
    if events:
        settings["events"] = events
    return settings
