"""An export's spans grouped into runs, every one checked before anything is stored.

A trace is a run. Its ID is the ``handrail.run_id`` attribute (on the span, else on its
resource, else on another span of the same trace in the export), otherwise
``otel-<trace ID in hex>``, so spans of one trace sent in several exports meet in one
run. Within an export a run's spans become steps in start-time order. The root span (no
parent) closes the run: failed with the root's error when its status is ERROR,
succeeded otherwise.

Every span must carry a 16-byte trace ID and an 8-byte span ID, and its step must pass
the rules a native event passes (``workflows.bodies.schemas.EventIn``: an end not before the
start, token counts that fit, times within years 1000 to 9999); one that does not makes
the whole export ``InvalidInput``, named by its place in the export, and nothing of it
is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from pydantic import ValidationError

from workflows.bodies.schemas import EventIn, RunFinish, RunStart
from workflows.errors import InvalidInput
from workflows.identifiers import RUN_ID
from workflows.otlp import conventions as names
from workflows.otlp.spans import span_step
from workflows.otlp.values import attributes

TRACE_ID_BYTES: Final = 16
SPAN_ID_BYTES: Final = 8


@dataclass
class TraceRun:
    """What one export holds for one run: how to start it, its steps, how it ended."""

    run_id: str
    start: RunStart
    steps: list[tuple[int, EventIn]] = field(default_factory=list)
    finish: RunFinish | None = None

    def events(self) -> list[EventIn]:
        """The steps in the order their spans started."""
        return [event for _, event in sorted(self.steps, key=lambda item: item[0])]


@dataclass(frozen=True, slots=True)
class _Located:
    span: Span
    attributes: dict[str, Any]
    place: str
    resource: dict[str, Any]
    run_id: str | None


def plan_export(export: ExportTraceServiceRequest) -> list[TraceRun]:
    """The runs of ``export``, in the order their traces first appear (see module docstring)."""
    located, named_traces = _locate(export)
    runs: dict[str, TraceRun] = {}
    for item in located:
        span = item.span
        run_id = item.run_id or named_traces.get(span.trace_id) or f"otel-{span.trace_id.hex()}"
        run = runs.get(run_id)
        if run is None:
            if not RUN_ID.match(run_id):
                raise InvalidInput(
                    f"{item.place}: {names.RUN_ID} {run_id[:140]!r} is not a run ID (letters, "
                    "digits and _ . : -, up to 128, starting with a letter or digit)",
                    details=[{"loc": f"{item.place}.attributes.{names.RUN_ID}"}],
                )
            run = runs[run_id] = TraceRun(run_id, _run_start(run_id, span, item.resource))
        event = _event(span, item.attributes, item.place)
        run.steps.append((span.start_time_unix_nano or span.end_time_unix_nano, event))
        if not span.parent_span_id:
            failed = event.status == "error"
            run.finish = RunFinish(
                status="failed" if failed else "succeeded", error=event.error if failed else None
            )
    return list(runs.values())


def _locate(export: ExportTraceServiceRequest) -> tuple[list[_Located], dict[bytes, str]]:
    """Every span with its place and resource, checked IDs, and the run IDs traces name."""
    located: list[_Located] = []
    named_traces: dict[bytes, str] = {}
    for r, resource_spans in enumerate(export.resource_spans):
        resource = attributes(resource_spans.resource.attributes)
        resource_run_id = resource.get(names.RUN_ID)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            for k, span in enumerate(scope_spans.spans):
                place = f"resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"
                _check_ids(span, place)
                attrs = attributes(span.attributes)
                run_id = attrs.get(names.RUN_ID, resource_run_id)
                if run_id is not None:
                    run_id = str(run_id)
                    named_traces.setdefault(span.trace_id, run_id)
                located.append(_Located(span, attrs, place, resource, run_id))
    return located, named_traces


def _check_ids(span: Span, place: str) -> None:
    for name, value, size in (
        ("traceId", span.trace_id, TRACE_ID_BYTES),
        ("spanId", span.span_id, SPAN_ID_BYTES),
    ):
        if len(value) != size or not any(value):
            what = "none" if not value else f"{len(value)} bytes" if any(value) else "all zeros"
            raise InvalidInput(
                f"{place}.{name} must be {size} bytes, not all zero; got {what}",
                details=[{"loc": f"{place}.{name}"}],
            )
    if span.parent_span_id and len(span.parent_span_id) != SPAN_ID_BYTES:
        raise InvalidInput(
            f"{place}.parentSpanId must be empty or {SPAN_ID_BYTES} bytes; "
            f"got {len(span.parent_span_id)} bytes",
            details=[{"loc": f"{place}.parentSpanId"}],
        )


def _event(span: Span, attrs: dict[str, Any], place: str) -> EventIn:
    """The span's step, validated as a native event is; refused with its place if not."""
    try:
        return EventIn.model_validate(span_step(span, attrs))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'span'}: {problem['msg']}"
            for problem in error.errors(include_url=False)[:3]
        )
        raise InvalidInput(
            f"{place} (span {span.span_id.hex()} '{span.name[:80]}'): {problems}",
            details=[{"loc": place, "message": problems}],
        ) from None


def _run_start(run_id: str, span: Span, resource: dict[str, Any]) -> RunStart:
    """The run a trace opens: its service as the input source, its resource as metadata."""
    service = resource.get(names.SERVICE_NAME)
    return RunStart(
        run_id=run_id,
        input_source=f"OpenTelemetry: {str(service)[:1000]}" if service else "OpenTelemetry",
        metadata={"otel": {"trace_id": span.trace_id.hex(), "resource": resource}},
    )
