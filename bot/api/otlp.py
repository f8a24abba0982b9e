"""``POST /v1/traces``: OTLP/HTTP trace ingest, so any OpenTelemetry exporter can report runs.

Point an exporter at ``…/v1/traces`` with the workflow's token
(``Authorization: Bearer …``, scope ``runs:write``, as for native events). The body is an
``ExportTraceServiceRequest`` in protobuf or JSON, optionally gzip-compressed (aiohttp
inflates it; the body cap applies to the inflated size). Errors are answered as OTLP asks:
a ``google.rpc.Status`` in the request's encoding, 400 for anything wrong with the
export (nothing of it is stored), 401/403 for the token, 413 over the body cap, 415 for
an encoding other than the two. Spans refused alone (their run is finished) are
reported as partial success. The mapping lives in ``workflows.otlp``.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.web_protocol import RequestPayloadError

from bot.api.routes import authenticate
from bot.services import SERVICES
from workflows.errors import HandrailError
from workflows.otlp import wire
from workflows.otlp.ingest import ingest_export
from workflows.otlp.traces import plan_export

#: Statuses passed through as they are; every other refusal of an export is a 400.
_OWN_STATUSES = frozenset({401, 403, 413})


def otlp_response(body: bytes, encoding: wire.Encoding, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type=encoding.value)


def otlp_error(status: int, message: str, encoding: wire.Encoding) -> web.Response:
    return otlp_response(
        wire.encode(wire.error_status(status, message), encoding), encoding, status
    )


async def export_traces(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    encoding = wire.encoding_of(request.headers.get("Content-Type", ""))
    answer_in = encoding or wire.Encoding.JSON
    try:
        principal = await authenticate(request, "runs:write")
        if encoding is None:
            return otlp_error(
                415,
                f"Content-Type must be {wire.Encoding.PROTOBUF.value} or "
                f"{wire.Encoding.JSON.value}, not {request.headers.get('Content-Type', 'none')!r}",
                answer_in,
            )
        body = await _read(request, encoding)
        if isinstance(body, web.Response):
            return body
        traces = plan_export(wire.decode_export(body, encoding))
        result = await ingest_export(
            services.sessions,
            workflow=principal.workflow,
            traces=traces,
            redactor=services.redactors[principal.workflow],
            now=services.clock(),
        )
    except HandrailError as error:
        if error.status >= 500:
            raise
        status = error.status if error.status in _OWN_STATUSES else 400
        return otlp_error(status, error.message, answer_in)
    metrics = services.metrics
    metrics.runs_started.labels(principal.workflow).inc(result.started)
    metrics.events.labels(principal.workflow).inc(result.accepted)
    if result.errors:
        metrics.errors.labels(principal.workflow).inc(result.errors)
    for finished in result.finished:
        metrics.runs_finished.labels(principal.workflow, finished).inc()
    response = wire.export_response(
        rejected_spans=result.rejected, error_message="; ".join(result.refusals)
    )
    return otlp_response(wire.encode(response, encoding), encoding)


async def _read(request: web.Request, encoding: wire.Encoding) -> bytes | web.Response:
    """The inflated body, or the answer to one over the cap or that will not inflate."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = request.app._client_max_size
        return otlp_error(
            413,
            f"the export is larger than the {limit} byte limit; send smaller batches "
            "(OTEL_BSP_MAX_EXPORT_BATCH_SIZE) or raise HANDRAIL_MAX_BODY_BYTES",
            encoding,
        )
    except (RequestPayloadError, BadHttpMessage) as error:  # a gzip stream that is not one
        # The parser gave up on this body: mark it read, so the server does not try to
        # drain it after answering (and drop the answer), and close the connection after.
        request.content.feed_eof()
        reason = " ".join(str(error).split())
        response = otlp_error(400, f"the body could not be decompressed: {reason}", encoding)
        response.force_close()
        return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/traces", export_traces)
