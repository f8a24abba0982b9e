"""Bad OTLP exports get the protocol's error with a reason, and nothing of them is stored."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeToken, bearer
from tests.otlp_exports import (
    JSON,
    PROTOBUF,
    RUN_ID,
    TRACE,
    Answer,
    as_json,
    chat_span,
    export,
    post,
    run_json,
    span,
    span_id,
)

Client = TestClient[Any, Any]
OTHER_TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")


async def nothing_stored(client: Client, token: str, run_id: str = RUN_ID) -> bool:
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    return response.status == 404


async def test_a_wrong_content_type_is_answered_415(client: Client, token: str) -> None:
    """A body that is neither protobuf nor JSON is refused with 415 and the types accepted."""
    answer = await post(client, token, b"resourceSpans", content_type="text/plain")
    assert answer.status == 415
    assert "application/x-protobuf" in answer.error()
    assert await nothing_stored(client, token)


async def test_an_export_without_a_token_is_answered_401(client: Client, token: str) -> None:
    """No bearer token: 401 with a Status body, nothing stored."""
    answer = await post(client, None, export(chat_span()))
    assert answer.status == 401
    assert answer.error()
    assert await nothing_stored(client, token)


async def test_a_token_without_runs_write_is_answered_403(
    client: Client, token: str, make_token: MakeToken
) -> None:
    """A read-only token may not send spans: 403, as for native events."""
    reader = await make_token(scopes=("runs:read",))
    answer = await post(client, reader, export(chat_span()))
    assert answer.status == 403
    assert "runs:write" in answer.error()


async def test_a_truncated_protobuf_is_answered_400_in_protobuf(client: Client, token: str) -> None:
    """A cut-off protobuf body gets a 400 google.rpc.Status saying it cannot be read."""
    body = export(chat_span(), chat_span(sid=span_id(2))).SerializeToString()
    answer = await post(client, token, body[: len(body) - 7])
    assert (answer.status, answer.content_type) == (400, PROTOBUF)
    assert "not a valid OTLP protobuf" in answer.error()
    assert await nothing_stored(client, token)


async def test_a_broken_gzip_body_is_answered_400(client: Client, token: str) -> None:
    """A body whose gzip stream is corrupt is refused as a bad request."""
    body = b"\x1f\x8b" + b"not a gzip stream at all"
    response = await client.post(
        "/v1/traces",
        data=body,
        headers={"Content-Type": PROTOBUF, "Content-Encoding": "gzip", **bearer(token)},
    )
    answer = Answer(response.status, response.content_type, await response.read())
    assert answer.status == 400
    assert "could not be decompressed" in answer.error()
    assert await nothing_stored(client, token)


async def test_malformed_json_is_answered_400_in_json(client: Client, token: str) -> None:
    """A JSON body that does not parse gets a JSON Status naming the problem."""
    answer = await post(client, token, b'{"resourceSpans": [', content_type=JSON)
    assert (answer.status, answer.content_type) == (400, JSON)
    assert "not valid JSON" in answer.error()


async def test_a_span_without_a_trace_id_refuses_the_whole_export(
    client: Client, token: str
) -> None:
    """One span with no trace ID: 400 naming its place, and the good spans are not stored."""
    answer = await post(client, token, export(chat_span(), chat_span(trace=b"", sid=span_id(2))))
    assert answer.status == 400
    assert "resourceSpans[0].scopeSpans[0].spans[1].traceId" in answer.error()
    assert await nothing_stored(client, token)


async def test_a_span_id_of_the_wrong_length_is_answered_400(client: Client, token: str) -> None:
    """A JSON span ID of 6 hex digits (3 bytes) is refused with the length it had."""
    body = as_json(export(chat_span())).replace(b'"00f067aa0ba902b7"', b'"00f067"')
    answer = await post(client, token, body, content_type=JSON)
    assert answer.status == 400
    assert "spanId must be 8 bytes" in answer.error()


async def test_a_base64_span_id_in_json_is_answered_400(client: Client, token: str) -> None:
    """OTLP/JSON IDs are hex; protobuf's base64 is refused with a reason, not misread."""
    body = as_json(export(chat_span())).replace(b'"00f067aa0ba902b7"', b'"APBnqgupArc="')
    answer = await post(client, token, body, content_type=JSON)
    assert answer.status == 400
    assert "must be a hex string" in answer.error()


async def test_a_span_ending_before_it_started_is_answered_400(client: Client, token: str) -> None:
    """End before start breaks the rule native events follow; the span is named."""
    skewed = chat_span(start=2_000_000_000_000_000_000, end=1_900_000_000_000_000_000)
    answer = await post(client, token, export(skewed))
    assert answer.status == 400
    assert "ended_at is before started_at" in answer.error()
    assert await nothing_stored(client, token)


async def test_a_time_past_what_otlp_can_carry_is_answered_400(client: Client, token: str) -> None:
    """A year-9999 end time overflows OTLP's 64-bit nanoseconds and is refused."""
    document = orjson.loads(as_json(export(chat_span())))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["endTimeUnixNano"] = (
        "253402300799000000000"  # 9999-12-31T23:59:59Z
    )
    body = orjson.dumps(document)
    answer = await post(client, token, body, content_type=JSON)
    assert answer.status == 400
    assert await nothing_stored(client, token)


async def test_tokens_that_do_not_fit_are_answered_400(client: Client, token: str) -> None:
    """Token counts follow the native rules: a negative count is refused with its field."""
    answer = await post(
        client, token, export(chat_span(attributes={"gen_ai.usage.input_tokens": -5}))
    )
    assert answer.status == 400
    assert "tokens_in" in answer.error()


async def test_a_run_id_that_is_not_one_is_answered_400(client: Client, token: str) -> None:
    """A ``handrail.run_id`` with a space in it is refused before anything is stored."""
    answer = await post(client, token, export(chat_span(), resource={"handrail.run_id": "a b"}))
    assert answer.status == 400
    assert "handrail.run_id" in answer.error()


async def test_a_span_for_another_workflows_run_refuses_the_export(
    client: Client, token: str, make_token: MakeToken
) -> None:
    """A run another workflow owns refuses the whole export; the other trace is not stored."""
    invoices = await make_token(workflow="invoice-extraction")
    await post(client, invoices, export(chat_span(), resource={"handrail.run_id": "shared-1"}))
    mine = chat_span(trace=OTHER_TRACE)
    theirs = chat_span(sid=span_id(2), attributes={"handrail.run_id": "shared-1"})
    answer = await post(client, token, export(mine, theirs))
    assert answer.status == 400
    assert "another workflow" in answer.error()
    assert await nothing_stored(client, token, f"otel-{OTHER_TRACE.hex()}")
    assert len((await run_json(client, invoices, "shared-1"))["events"]) == 1


async def test_an_export_over_the_body_cap_is_answered_413(client: Client, token: str) -> None:
    """An export past HANDRAIL_MAX_BODY_BYTES is refused with 413 and nothing stored."""
    spans = [chat_span(sid=span_id(n), attributes={"input.value": "x" * 30_000}) for n in range(12)]
    answer = await post(client, token, export(*spans))
    assert answer.status == 413
    assert "byte limit" in answer.error()
    assert await nothing_stored(client, token)


async def test_spans_for_a_finished_run_are_a_partial_success(client: Client, token: str) -> None:
    """New spans of a finished run are rejected and counted; the rest of the export is kept."""
    await post(client, token, export(span("root", sid=span_id(1))))
    late = chat_span(sid=span_id(9), parent=span_id(1))
    other = chat_span(trace=OTHER_TRACE)
    answer = await post(client, token, export(late, other))
    assert answer.status == 200
    partial = answer.partial().partial_success
    assert partial.rejected_spans == 1
    assert f"run '{RUN_ID}' is finished (succeeded)" in partial.error_message
    assert len((await run_json(client, token, f"otel-{OTHER_TRACE.hex()}"))["events"]) == 1
    assert len((await run_json(client, token, RUN_ID))["events"]) == 1


@pytest.mark.parametrize("field", ["spanId", "traceId"])
async def test_an_all_zero_id_is_answered_400(client: Client, token: str, field: str) -> None:
    """All-zero trace and span IDs are invalid in OpenTelemetry and refused."""
    zeros = "0" * (32 if field == "traceId" else 16)
    original = TRACE.hex() if field == "traceId" else "00f067aa0ba902b7"
    body = as_json(export(chat_span())).replace(original.encode(), zeros.encode())
    answer = await post(client, token, body, content_type=JSON)
    assert answer.status == 400
    assert f"{field} must be" in answer.error()
