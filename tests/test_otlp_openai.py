"""Real instrumentation end to end: the OpenAI SDK, traced by OpenTelemetry's own
instrumentation, exporting over OTLP/HTTP to a running Handrail.

The SDK calls a local fake of the OpenAI API; the instrumentation
(``opentelemetry-instrumentation-openai-v2``) records each call as a GenAI span and the
standard exporter, configured only by the environment variables the README gives, sends
it to ``/v1/traces``. What arrives is read back the way people read it: ``handrail
trace``'s text, ``/trace`` in Slack, and the repeated-error alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import openai
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from bot.cli.trace_text import render_trace
from handlers.blocks._parts import duration
from tests.alert_harness import ONCALL_CHANNEL, OnCall, block_text, running_oncall
from tests.command_harness import command, text_of
from tests.conftest import Database
from tests.fake_openai import ANSWERED_MODEL, COMPLETION_TOKENS, HANG, PROMPT_TOKENS, fake_openai
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig
from workflows.durations import format_duration
from workflows.ledger.story import read_run_story


@pytest.fixture
async def oncall(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[OnCall]:
    async with running_oncall(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


@pytest.fixture
def tracer_provider(oncall: OnCall, monkeypatch: pytest.MonkeyPatch) -> Iterator[TracerProvider]:
    """The OpenAI SDK instrumented, exporting each span as it ends to Handrail."""
    endpoint = str(oncall.slack.api.make_url("/v1/traces"))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint)
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS", f"Authorization=Bearer%20{oncall.slack.token}"
    )
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    provider = TracerProvider(resource=Resource.create({"service.name": "ticket-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield provider
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def triage(base_url: str, provider: TracerProvider) -> str:
    """A ticket triaged with one model call inside the job's own span; returns the run ID.

    The call's span ends, and is exported, before the job's: the two meet in the run
    named after their trace ID.
    """
    tracer = provider.get_tracer("ticket-bot")
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
    with tracer.start_as_current_span("triage ticket") as job:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Where is my refund for order 4812?"}],
        )
    client.close()
    return f"otel-{job.get_span_context().trace_id:032x}"


def time_out(base_url: str, times: int) -> None:
    """``times`` model calls that the fake never answers, each its own trace."""
    client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=0.1)
    for _ in range(times):
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": HANG}]
            )
    client.close()


async def test_handrail_trace_shows_the_model_call_with_model_tokens_and_duration(
    oncall: OnCall, tracer_provider: TracerProvider
) -> None:
    """``handrail trace`` prints the instrumented call's model, tokens and duration."""
    async with fake_openai() as base_url:
        run_id = await asyncio.to_thread(triage, base_url, tracer_provider)
    async with oncall.services.readers() as db:
        story = await read_run_story(db, run_id=run_id)
    text = render_trace(story)
    call, root = story.events
    assert (story.run.status, root.name, call.type) == ("succeeded", "triage ticket", "model")
    assert call.duration_ms is not None
    assert call.duration_ms > 0
    assert f"model {ANSWERED_MODEL}" in text
    assert f"tokens {PROMPT_TOKENS} in / {COMPLETION_TOKENS} out" in text
    assert format_duration(timedelta(milliseconds=call.duration_ms)) in text


async def test_slash_trace_shows_the_model_call_with_model_tokens_and_duration(
    oncall: OnCall, tracer_provider: TracerProvider
) -> None:
    """``/trace`` in Slack shows the instrumented call's model, tokens and duration."""
    async with fake_openai() as base_url:
        run_id = await asyncio.to_thread(triage, base_url, tracer_provider)
    async with oncall.services.readers() as db:
        call = (await read_run_story(db, run_id=run_id)).events[0]
    assert call.duration_ms is not None
    story = text_of(await command(oncall.slack, "/trace", run_id, user="U0ALICE"))
    assert ANSWERED_MODEL in story
    assert f"{PROMPT_TOKENS}→{COMPLETION_TOKENS} tokens" in story
    assert f"· {duration(timedelta(milliseconds=call.duration_ms))}" in story


async def test_repeated_timeouts_raise_a_repeated_error_alert(
    oncall: OnCall, tracer_provider: TracerProvider
) -> None:
    """Model calls that time out are failed steps whose error opens a repeated-error alert."""
    async with fake_openai() as base_url:
        await asyncio.to_thread(time_out, base_url, 5)
    report = await oncall.tick_and_deliver()
    assert report.opened
    [alert] = await oncall.alerts()
    assert alert.rule == "repeated_error"
    [post] = oncall.posts(ONCALL_CHANNEL)
    assert "APITimeoutError: Request timed out." in block_text(post)
