"""The OTLP/HTTP wire: an export's body decoded, the answers encoded in the same encoding.

Two encodings are spoken, chosen by ``Content-Type``: binary protobuf
(``application/x-protobuf``) and the OTLP flavour of protobuf's JSON mapping
(``application/json``). That flavour differs from the plain mapping in one way that
matters: trace and span IDs are hex strings, not base64, so they are turned into
base64 before OpenTelemetry's own ``json_format`` parses the rest (lowerCamelCase or
original field names, enums as integers or names, unknown fields ignored as the
specification asks of receivers). Answers (``ExportTraceServiceResponse`` and, on an
error, ``google.rpc.Status``) go back in the request's encoding.
"""

from __future__ import annotations

import base64
from enum import StrEnum
from typing import Any, Final

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from workflows.errors import InvalidInput


class Encoding(StrEnum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


#: gRPC status codes for the HTTP statuses an export is answered with.
GRPC_CODES: Final = {400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 500: 13}
_ID_FIELDS: Final = (
    ("traceId", "trace_id"),
    ("spanId", "span_id"),
    ("parentSpanId", "parent_span_id"),
)


def encoding_of(content_type: str) -> Encoding | None:
    """The encoding a ``Content-Type`` names (parameters such as charset ignored), if any."""
    media = content_type.split(";", 1)[0].strip().lower()
    return next((encoding for encoding in Encoding if encoding.value == media), None)


def decode_export(body: bytes, encoding: Encoding) -> ExportTraceServiceRequest:
    """The export in ``body``, or ``InvalidInput`` saying why it cannot be read."""
    export = ExportTraceServiceRequest()
    if encoding is Encoding.PROTOBUF:
        try:
            export.ParseFromString(body)
        except DecodeError as error:
            raise InvalidInput(
                f"the body is not a valid OTLP protobuf ExportTraceServiceRequest ({error}); "
                "is it truncated?",
                details=[{"loc": "body"}],
            ) from None
        return export
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            f"the body is not valid JSON: {error}", details=[{"loc": "body"}]
        ) from None
    if not isinstance(document, dict):
        raise InvalidInput(
            "the body must be a JSON object with resourceSpans", details=[{"loc": "body"}]
        )
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, export, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise InvalidInput(
            f"the body is not an OTLP/JSON ExportTraceServiceRequest: {error}",
            details=[{"loc": "body"}],
        ) from None
    return export


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """Rewrite every span's (and span link's) hex IDs as base64, in place, for ``json_format``."""
    for r, resource_spans in enumerate(_items(document, "resourceSpans", "resource_spans")):
        for s, scope_spans in enumerate(_items(resource_spans, "scopeSpans", "scope_spans")):
            for k, span in enumerate(_items(scope_spans, "spans", "spans")):
                place = f"resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"
                _rewrite_ids(span, place)
                for n, link in enumerate(_items(span, "links", "links")):
                    _rewrite_ids(link, f"{place}.links[{n}]")


def _items(parent: Any, camel: str, snake: str) -> list[Any]:
    items = parent.get(camel, parent.get(snake)) if isinstance(parent, dict) else None
    return items if isinstance(items, list) else []


def _rewrite_ids(holder: Any, place: str) -> None:
    if not isinstance(holder, dict):
        return
    for names in _ID_FIELDS:
        for name in names:
            value = holder.get(name)
            if isinstance(value, str):
                try:
                    raw = bytes.fromhex(value)
                except ValueError:
                    raise InvalidInput(
                        f"{place}.{names[0]} must be a hex string (OTLP/JSON), not {value[:40]!r}",
                        details=[{"loc": f"{place}.{names[0]}"}],
                    ) from None
                holder[name] = base64.b64encode(raw).decode()


def encode(message: Message, encoding: Encoding) -> bytes:
    """``message`` in ``encoding``; JSON as OTLP/JSON writes it (lowerCamelCase, no defaults)."""
    if encoding is Encoding.PROTOBUF:
        return message.SerializeToString()
    return orjson.dumps(json_format.MessageToDict(message))


def export_response(
    *, rejected_spans: int = 0, error_message: str = ""
) -> ExportTraceServiceResponse:
    """Success, or partial success when some spans were refused (and why)."""
    response = ExportTraceServiceResponse()
    if rejected_spans or error_message:
        response.partial_success.rejected_spans = rejected_spans
        response.partial_success.error_message = error_message
    return response


def error_status(status: int, message: str) -> Status:
    """The ``google.rpc.Status`` an OTLP/HTTP error response carries."""
    return Status(code=GRPC_CODES.get(status, 2), message=message)
