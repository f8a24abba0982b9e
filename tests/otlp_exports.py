"""Build OTLP exports the way an OpenTelemetry SDK does, and send them to ``/v1/traces``.

The messages are OpenTelemetry's own (``opentelemetry-proto``); JSON bodies are written
as OTLP/JSON writes them (lowerCamelCase, hex IDs, 64-bit numbers as strings).
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp.test_utils import TestClient
from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.proto.trace.v1.trace_pb2 import Status as SpanStatus

from tests.conftest import bearer

TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
ROOT = bytes.fromhex("00f067aa0ba902b7")
#: 2026-12-06 09:00:00 UTC, in nanoseconds.
T0 = 1_796_547_600_000_000_000
MS = 1_000_000
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def value(item: Any) -> AnyValue:
    if isinstance(item, bool):
        return AnyValue(bool_value=item)
    if isinstance(item, int):
        return AnyValue(int_value=item)
    if isinstance(item, float):
        return AnyValue(double_value=item)
    if isinstance(item, list | tuple):
        return AnyValue(array_value=ArrayValue(values=[value(x) for x in item]))
    return AnyValue(string_value=str(item))


def pairs(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=value(item)) for key, item in attributes.items()]


def span_id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def span(
    name: str = "chat gpt-4o-mini",
    *,
    trace: bytes = TRACE,
    sid: bytes = ROOT,
    parent: bytes = b"",
    start: int = T0,
    end: int = T0 + 1500 * MS,
    attributes: Mapping[str, Any] | None = None,
    error: str | None = None,
    events: Sequence[Span.Event] = (),
) -> Span:
    """A span; ``error`` given, its status is ERROR with that message."""
    status = (
        SpanStatus(code=SpanStatus.STATUS_CODE_ERROR, message=error)
        if error is not None
        else SpanStatus()
    )
    return Span(
        trace_id=trace,
        span_id=sid,
        parent_span_id=parent,
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=pairs(attributes or {}),
        status=status,
        events=list(events),
    )


def event(name: str, attributes: Mapping[str, Any], at: int = T0) -> Span.Event:
    return Span.Event(name=name, time_unix_nano=at, attributes=pairs(attributes))


def chat_span(**overrides: Any) -> Span:
    """A model call as the GenAI conventions describe it."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.usage.input_tokens": 31,
        "gen_ai.usage.output_tokens": 4,
    }
    attributes.update(overrides.pop("attributes", {}))
    return span(attributes=attributes, **overrides)


def export(*spans: Span, resource: Mapping[str, Any] | None = None) -> ExportTraceServiceRequest:
    resource = {"service.name": "ticket-bot", **(resource or {})}
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=pairs(resource)),
                scope_spans=[ScopeSpans(spans=list(spans))],
            )
        ]
    )


def as_json(message: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON: protobuf's JSON mapping with trace and span IDs in hex."""
    document = json_format.MessageToDict(message)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for item in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in item:
                        item[key] = _hex(item[key])
    return orjson.dumps(document)


def _hex(b64: str) -> str:
    return base64.b64decode(b64).hex()


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def partial(self) -> ExportTraceServiceResponse:
        response = ExportTraceServiceResponse()
        if self.content_type == JSON:
            json_format.Parse(self.body, response)
        else:
            response.ParseFromString(self.body)
        return response

    def error(self) -> str:
        """The reason a ``google.rpc.Status`` body gives."""
        status = Status()
        if self.content_type == JSON:
            json_format.Parse(self.body, status)
        else:
            status.ParseFromString(self.body)
        return str(status.message)


async def post(
    client: TestClient[Any, Any],
    token: str | None,
    body: ExportTraceServiceRequest | bytes,
    *,
    content_type: str = PROTOBUF,
    compress: bool = False,
) -> Answer:
    """POST an export as an OTLP/HTTP exporter does."""
    if isinstance(body, ExportTraceServiceRequest):
        body = as_json(body) if content_type == JSON else body.SerializeToString()
    headers = {"Content-Type": content_type, **(bearer(token) if token else {})}
    if compress:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    response = await client.post("/v1/traces", data=body, headers=headers)
    return Answer(response.status, response.content_type, await response.read())


async def run_json(client: TestClient[Any, Any], token: str, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


RUN_ID = f"otel-{TRACE.hex()}"
