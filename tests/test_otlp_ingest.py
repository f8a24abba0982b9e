"""OTLP/HTTP trace ingest: a trace becomes a run, its spans steps, through the native path."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from tests.otlp_exports import (
    JSON,
    MS,
    ROOT,
    RUN_ID,
    T0,
    chat_span,
    event,
    export,
    post,
    run_json,
    span,
    span_id,
)

Client = TestClient[Any, Any]


async def test_a_chat_span_becomes_a_model_step_with_model_tokens_and_duration(
    client: Client, token: str
) -> None:
    """A GenAI chat span is stored as a model step with its model, tokens and duration."""
    answer = await post(client, token, export(chat_span()))
    assert answer.status == 200
    run = await run_json(client, token, RUN_ID)
    [step] = run["events"]
    assert step["type"] == "model"
    assert step["model"] == "gpt-4o-mini-2024-07-18"
    assert (step["tokens_in"], step["tokens_out"]) == (31, 4)
    assert step["duration_ms"] == 1500
    assert step["settings"]["temperature"] == 0.2


async def test_the_run_finishes_as_succeeded_when_its_root_span_ends(
    client: Client, token: str
) -> None:
    """A trace whose root span ended is a succeeded run named after the trace ID."""
    child = chat_span(sid=span_id(2), parent=span_id(1), start=T0 + 10 * MS, end=T0 + 900 * MS)
    root = span("answer ticket", sid=span_id(1))
    await post(client, token, export(child, root))
    run = await run_json(client, token, RUN_ID)
    assert run["status"] == "succeeded"
    assert run["input_source"] == "OpenTelemetry: ticket-bot"
    assert run["metadata"]["otel"]["resource"]["service.name"] == "ticket-bot"


async def test_spans_become_steps_in_start_time_order(client: Client, token: str) -> None:
    """Spans sent out of order are stored in the order they started."""
    late = span("late", sid=span_id(3), parent=span_id(1), start=T0 + 300 * MS)
    early = span("early", sid=span_id(2), parent=span_id(1), start=T0 + 100 * MS)
    root = span("root", sid=span_id(1), start=T0)
    await post(client, token, export(late, root, early))
    run = await run_json(client, token, RUN_ID)
    assert [step["name"] for step in run["events"]] == ["root", "early", "late"]


async def test_a_json_export_with_hex_ids_is_read_and_answered_in_json(
    client: Client, token: str
) -> None:
    """OTLP/JSON (hex IDs) lands in the same run as protobuf would, and is answered in JSON."""
    answer = await post(client, token, export(chat_span()), content_type=JSON)
    assert (answer.status, answer.content_type) == (200, JSON)
    run = await run_json(client, token, RUN_ID)
    assert run["events"][0]["id"] == ROOT.hex()


async def test_a_gzip_compressed_export_is_accepted(client: Client, token: str) -> None:
    """A body sent with Content-Encoding: gzip is inflated and stored."""
    answer = await post(client, token, export(chat_span()), compress=True)
    assert answer.status == 200
    assert len((await run_json(client, token, RUN_ID))["events"]) == 1


async def test_a_handrail_run_id_attribute_names_the_run(client: Client, token: str) -> None:
    """``handrail.run_id`` on the resource names the run instead of the trace ID."""
    await post(client, token, export(chat_span(), resource={"handrail.run_id": "ticket-4812"}))
    run = await run_json(client, token, "ticket-4812")
    assert run["events"][0]["model"] == "gpt-4o-mini-2024-07-18"


async def test_a_run_id_on_one_span_applies_to_its_whole_trace(client: Client, token: str) -> None:
    """A run ID set on the root span also names the run of its children in the export."""
    child = chat_span(sid=span_id(2), parent=span_id(1))
    root = span("root", sid=span_id(1), attributes={"handrail.run_id": "ticket-4813"})
    await post(client, token, export(child, root))
    run = await run_json(client, token, "ticket-4813")
    assert len(run["events"]) == 2


async def test_a_resent_export_stores_nothing_twice(client: Client, token: str) -> None:
    """Span IDs are the steps' client IDs, so an export sent again adds no step."""
    body = export(chat_span(sid=span_id(2), parent=span_id(1)), span("root", sid=span_id(1)))
    first = await post(client, token, body)
    second = await post(client, token, body)
    assert (first.status, second.status) == (200, 200)
    assert second.partial().partial_success.rejected_spans == 0
    assert len((await run_json(client, token, RUN_ID))["events"]) == 2


async def test_a_trace_sent_in_several_exports_is_one_run(client: Client, token: str) -> None:
    """Children exported before their root join it in one run, finished by the root."""
    await post(client, token, export(chat_span(sid=span_id(2), parent=span_id(1))))
    assert (await run_json(client, token, RUN_ID))["status"] == "running"
    await post(client, token, export(span("root", sid=span_id(1))))
    run = await run_json(client, token, RUN_ID)
    assert run["status"] == "succeeded"
    assert [step["name"] for step in run["events"]] == ["chat gpt-4o-mini", "root"]


async def test_an_exception_event_becomes_the_steps_full_error_text(
    client: Client, token: str
) -> None:
    """A failed span's error keeps the exception's type, message and whole stack trace."""
    stack = 'Traceback (most recent call last):\n  File "lookup.py", line 9\nTimeoutError'
    failed = span(
        "order_lookup",
        error="timed out",
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "order_lookup"},
        events=[
            event(
                "exception",
                {
                    "exception.type": "TimeoutError",
                    "exception.message": "timeout after 30 s from order_lookup",
                    "exception.stacktrace": stack,
                },
            )
        ],
    )
    await post(client, token, export(failed))
    run = await run_json(client, token, RUN_ID)
    [step] = run["events"][:1]
    assert (step["type"], step["name"], step["status"]) == ("tool", "order_lookup", "error")
    assert step["error"].startswith("TimeoutError: timeout after 30 s from order_lookup\n")
    assert stack in step["error"]
    assert "timed out" in step["error"]


async def test_a_root_span_with_error_status_fails_the_run(client: Client, token: str) -> None:
    """A root span ending with status ERROR finishes the run as failed with its message."""
    await post(client, token, export(span("root", error="upstream 503 from CRM")))
    run = await run_json(client, token, RUN_ID)
    assert (run["status"], run["error"]) == ("failed", "upstream 503 from CRM")


async def test_openinference_attributes_are_mapped(client: Client, token: str) -> None:
    """OpenInference's kind, model, token counts, input and output map like GenAI's."""
    llm = span(
        "ChatOpenAI",
        attributes={
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.token_count.prompt": 120,
            "llm.token_count.completion": 8,
            "input.value": '{"question": "Where is my order?"}',
            "output.value": "It ships today.",
        },
    )
    await post(client, token, export(llm))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert (step["type"], step["model"], step["tokens_in"], step["tokens_out"]) == (
        "model",
        "gpt-4o",
        120,
        8,
    )
    assert step["input"] == {"question": "Where is my order?"}
    assert step["output"] == "It ships today."


async def test_an_openinference_tool_span_is_a_tool_step_named_by_its_tool(
    client: Client, token: str
) -> None:
    """A TOOL span is a tool step named by ``tool.name``."""
    tool = span("run tool", attributes={"openinference.span.kind": "TOOL", "tool.name": "crm"})
    await post(client, token, export(tool))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert (step["type"], step["name"]) == ("tool", "crm")


async def test_indexed_prompt_and_completion_attributes_become_input_and_output(
    client: Client, token: str
) -> None:
    """``gen_ai.prompt.N.*`` and ``gen_ai.completion.N.*`` become message lists."""
    chat = chat_span(
        attributes={
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Classify the ticket.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Where is my refund?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "billing",
        }
    )
    await post(client, token, export(chat))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["input"] == [
        {"role": "system", "content": "Classify the ticket."},
        {"role": "user", "content": "Where is my refund?"},
    ]
    assert step["output"] == [{"role": "assistant", "content": "billing"}]


async def test_message_events_become_the_prompt_and_the_completion(
    client: Client, token: str
) -> None:
    """``gen_ai.user.message`` and ``gen_ai.choice`` events become input and output."""
    chat = chat_span(
        events=[
            event("gen_ai.user.message", {"content": "Where is my refund?"}),
            event("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": "billing"}),
        ]
    )
    await post(client, token, export(chat))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["input"] == [{"role": "user", "content": "Where is my refund?"}]
    assert step["output"] == [{"index": 0, "finish_reason": "stop", "message": "billing"}]


async def test_json_input_and_output_messages_are_stored_as_json(
    client: Client, token: str
) -> None:
    """``gen_ai.input.messages`` and ``gen_ai.output.messages`` (JSON text) are parsed."""
    chat = chat_span(
        attributes={
            "gen_ai.input.messages": orjson.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
            ).decode(),
            "gen_ai.output.messages": orjson.dumps(
                [{"role": "assistant", "parts": [], "finish_reason": "stop"}]
            ).decode(),
        }
    )
    await post(client, token, export(chat))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["input"][0]["parts"][0]["content"] == "Hi"
    assert step["output"][0]["finish_reason"] == "stop"


async def test_unknown_attributes_and_events_are_kept(client: Client, token: str) -> None:
    """Attributes and events no convention claims are kept in the step's settings."""
    chat = chat_span(
        attributes={"ticket.priority": "high", "retry.count": 2},
        events=[event("cache.miss", {"key": "order-4812"})],
    )
    await post(client, token, export(chat))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["settings"]["attributes"]["ticket.priority"] == "high"
    assert step["settings"]["attributes"]["retry.count"] == 2
    assert step["settings"]["events"][0]["attributes"] == {"key": "order-4812"}


async def test_secrets_in_span_attributes_are_redacted(client: Client, token: str) -> None:
    """Span content goes through the workflow's redaction before it is stored."""
    chat = chat_span(attributes={"input.value": "key AKIAIOSFODNN7EXAMPLE in the config"})
    await post(client, token, export(chat))
    run = await run_json(client, token, RUN_ID)
    assert "AKIAIOSFODNN7EXAMPLE" not in str(run["events"])
    assert run["redactions"]


async def test_an_enormous_attribute_value_is_clipped_with_a_marker(
    client: Client, token: str
) -> None:
    """A text over 200,000 characters keeps its start and end and says how much was cut."""
    huge = "a" * 100 + "x" * 230_000 + "the end"
    await post(client, token, export(chat_span(attributes={"output.value": huge})))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert len(step["output"]) <= 200_000
    assert step["output"].startswith("a" * 100)
    assert step["output"].endswith("the end")
    assert "characters clipped" in step["output"]


async def test_a_span_from_1970_is_kept_with_its_times(client: Client, token: str) -> None:
    """A skewed clock's 1970 timestamps pass the value rules native events follow."""
    await post(client, token, export(span("skewed", start=1_000_000, end=2_000_000)))
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["started_at"].startswith("1970-01-01")
    assert step["duration_ms"] == 1


async def test_nuls_and_non_finite_numbers_in_attributes_are_stored(
    client: Client, token: str
) -> None:
    """A NUL becomes U+FFFD and a NaN double the text "NaN", on both stores, as natively."""
    chat = chat_span(attributes={"tool\x00.note": "a\x00b", "score": float("nan")})
    answer = await post(client, token, export(chat))
    assert answer.status == 200
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["settings"]["attributes"]["tool\ufffd.note"] == "a\ufffdb"
    assert step["settings"]["attributes"]["score"] == "NaN"


async def test_a_nul_escaped_in_a_json_attribute_is_stored(client: Client, token: str) -> None:
    """JSON text carrying an escaped NUL is parsed and stored with U+FFFD in its place."""
    chat = chat_span(attributes={"input.value": '{"note": "a\\u0000b"}'})
    answer = await post(client, token, export(chat))
    assert answer.status == 200
    [step] = (await run_json(client, token, RUN_ID))["events"]
    assert step["input"] == {"note": "a\ufffdb"}
