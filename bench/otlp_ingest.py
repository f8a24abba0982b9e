"""OTLP ingest in spans/s beside native events/s: same machine, same store, same server.

Run: .venv/bin/python bench/otlp_ingest.py [--batches 300] [--concurrency 4]

For each store the script starts one real ``handrail serve`` process on a fresh database
(``bench/ingest.py``'s set-up) and sends, from this process over HTTP, first the native
batches of ``bench/ingest.py`` (100 realistic ~1 KB events each, about one in ten
carrying a secret; redaction on) to ``/api/v1/runs/{id}/events``, then the same events as
OTLP/HTTP protobuf exports to ``/v1/traces``: each event one span carrying the GenAI and
OpenInference attributes an instrumented app sends (operation, model, tokens, input and
output values, request settings), 100 spans per export, one trace per export (so each
export also starts its run). Bodies are encoded before the clock starts. It prints both
rates, the server's CPU per batch of each, and the ratio both ways (target: OTLP at least
60% of native). The two doors take turns, 20 batches at a time, so a change in the
machine's load weighs on both. A figure, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import bench_environment, cpu_seconds, make_batches, start_server  # noqa: E402

OPERATIONS = {"model": "chat", "prompt": "chat", "tool": "execute_tool", "action": "invoke_agent"}
T0 = time.time_ns()
ROUND = 20  # batches per door before switching to the other


def _value(item: Any) -> AnyValue:
    if isinstance(item, bool):
        return AnyValue(bool_value=item)
    if isinstance(item, int):
        return AnyValue(int_value=item)
    if isinstance(item, float):
        return AnyValue(double_value=item)
    return AnyValue(string_value=str(item))


def as_span(event: dict[str, Any], trace_id: bytes, index: int) -> Span:
    """A native benchmark event as the span an instrumented app would send for it."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": OPERATIONS[event["type"]],
        "gen_ai.request.model": event["model"],
        "gen_ai.usage.input_tokens": event["tokens_in"],
        "gen_ai.usage.output_tokens": event["tokens_out"],
        "input.value": orjson.dumps(event["input"]).decode(),
        "output.value": orjson.dumps(event["output"]).decode(),
        **{f"gen_ai.request.{k}": v for k, v in event["settings"].items()},
    }
    if event["type"] == "tool":
        attributes["gen_ai.tool.name"] = event["name"]
    start = T0 + index * 1_000_000_000
    return Span(
        trace_id=trace_id,
        span_id=bytes.fromhex(event["id"][:16]),
        parent_span_id=b"\x00\x00\x00\x00\x00\x00\x00\x01",
        name=event["name"],
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + int(event["duration_ms"] * 1_000_000),
        attributes=[KeyValue(key=k, value=_value(v)) for k, v in attributes.items()],
    )


def as_export(batch: list[dict[str, Any]]) -> bytes:
    """One batch as one OTLP protobuf export of one trace."""
    trace_id = uuid.uuid4().bytes
    resource = Resource(attributes=[KeyValue(key="service.name", value=_value("ticket-bot"))])
    spans = [as_span(event, trace_id, i) for i, event in enumerate(batch)]
    export = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]
    )
    return export.SerializeToString()


Send = Callable[[aiohttp.ClientSession, bytes, int], Awaitable[None]]


async def timed(
    session: aiohttp.ClientSession, bodies: list[bytes], concurrency: int, send: Send
) -> float:
    """Seconds to send every body, ``concurrency`` senders at a time."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def sender(lane: int) -> None:
        while not queue.empty():
            await send(session, queue.get_nowait(), lane)

    started = time.perf_counter()
    await asyncio.gather(*(sender(lane) for lane in range(concurrency)))
    return time.perf_counter() - started


async def both_doors(
    env: dict[str, str], batches: list[list[dict[str, Any]]], concurrency: int
) -> tuple[float, float, float, float]:
    """(native events/s, OTLP spans/s, native CPU ms/batch, OTLP CPU ms/export)."""
    server, token = await asyncio.to_thread(start_server, env)
    base = f"http://127.0.0.1:{env['HANDRAIL_PORT']}"
    events = sum(len(batch) for batch in batches)
    native_bodies = [orjson.dumps({"events": batch}) for batch in batches]
    otlp_bodies = [as_export(batch) for batch in batches]
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            for _ in range(600):  # a loaded machine may take a while to start it
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            runs = []
            for _ in range(concurrency):
                async with session.post(f"{base}/api/v1/runs", json={}) as response:
                    runs.append((await response.json())["run_id"])

            async def native(session: aiohttp.ClientSession, body: bytes, lane: int) -> None:
                async with session.post(
                    f"{base}/api/v1/runs/{runs[lane]}/events",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as response:
                    assert response.status == 202, await response.text()

            async def otlp(session: aiohttp.ClientSession, body: bytes, lane: int) -> None:
                async with session.post(
                    f"{base}/v1/traces",
                    data=body,
                    headers={"Content-Type": "application/x-protobuf"},
                ) as response:
                    assert response.status == 200, await response.read()

            # Rounds alternate between the doors, so a change in the machine's load
            # (it is shared) weighs on both alike.
            native_seconds = otlp_seconds = native_cpu = otlp_cpu = 0.0
            for start in range(0, len(batches), ROUND):
                cpu = cpu_seconds(server.pid)
                native_seconds += await timed(
                    session, native_bodies[start : start + ROUND], concurrency, native
                )
                native_cpu += cpu_seconds(server.pid) - cpu
                cpu = cpu_seconds(server.pid)
                otlp_seconds += await timed(
                    session, otlp_bodies[start : start + ROUND], concurrency, otlp
                )
                otlp_cpu += cpu_seconds(server.pid) - cpu
    finally:
        server.terminate()
        server.wait(timeout=10)
    per = 1000 / len(batches)
    return events / native_seconds, events / otlp_seconds, native_cpu * per, otlp_cpu * per


async def bench_store(
    name: str, batches: list[list[dict[str, Any]]], concurrency: int, workers: int
) -> None:
    async with bench_environment(name, workers=workers, prefix=f"otlp-{name}") as (env, _, _):
        native, otlp, native_cpu, otlp_cpu = await both_doors(env, batches, concurrency)
    print(
        f"{name:<10} native {native:>7,.0f} events/s ({native_cpu:4.1f} ms CPU/batch)   "
        f"OTLP {otlp:>7,.0f} spans/s ({otlp_cpu:4.1f} ms CPU/export)   "
        f"OTLP/native {otlp / native:>4.0%} by rate, {native_cpu / otlp_cpu:>4.0%} by server CPU"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=1, help="handrail serve --workers")
    args = parser.parse_args()
    random.seed(7)
    batches = make_batches(args.batches, 100)
    print(
        f"{args.batches} batches x 100 events/spans, {args.concurrency} concurrent senders, "
        f"{args.workers} server process(es); target: OTLP >= 60% of native"
    )
    for store in args.stores.split(","):
        await bench_store(store, batches, args.concurrency, args.workers)


if __name__ == "__main__":
    asyncio.run(main())
