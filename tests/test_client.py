"""The automation client against the real app, through a real proxy that misbehaves on cue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from handrail_client import (
    ConflictError,
    HandrailClient,
    HandrailUnavailable,
    InvalidRequest,
    Run,
    RunNotFound,
    Unauthorized,
)
from tenacity import wait_none
from yarl import URL

Client = TestClient[Any, Any]


@dataclass
class Fault:
    """One planned misbehaviour for the next request whose path ends with ``path``."""

    path: str
    status: int | None = None  # answer this instead of forwarding
    drop: bool = False  # forward, let the server act, then drop the answer
    hang: bool = False  # never answer (until the proxy shuts down)
    headers: dict[str, str] = field(default_factory=dict)


class Proxy:
    """A tiny HTTP proxy on 127.0.0.1 in front of the real app, faulting as planned."""

    def __init__(self, upstream: str) -> None:
        self.upstream = URL(upstream)
        self.faults: list[Fault] = []
        self.always: int | None = None
        self.seen: list[str] = []
        self.forwarded: list[str] = []
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        self._session: aiohttp.ClientSession | None = None
        self._release = asyncio.Event()

    @property
    def url(self) -> str:
        return str(self.server.make_url(""))

    async def __aenter__(self) -> Proxy:
        self._session = aiohttp.ClientSession()
        await self.server.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        await self.server.close()
        if self._session is not None:
            await self._session.close()

    def count(self, suffix: str, *, method: str = "POST") -> int:
        """How many requests reached the proxy for paths ending with ``suffix``."""
        return sum(1 for line in self.seen if line.startswith(method) and line.endswith(suffix))

    def _next_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.endswith(fault.path):
                self.faults.remove(fault)
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        line = f"{request.method} {request.path}"
        self.seen.append(line)
        if self.always is not None:
            return web.json_response({"error": {"code": "down"}}, status=self.always)
        fault = self._next_fault(request.path)
        if fault is not None and fault.hang:
            await self._release.wait()
            return web.Response(status=204)
        if fault is not None and fault.status is not None:
            return web.json_response(
                {"error": {"code": "proxy", "message": f"planned {fault.status}"}},
                status=fault.status,
                headers=fault.headers,
            )
        assert self._session is not None
        headers = {
            name: value
            for name, value in request.headers.items()
            if name in ("Authorization", "Content-Type")
        }
        async with self._session.request(
            request.method,
            self.upstream.with_path(request.path),
            data=await request.read(),
            headers=headers,
        ) as upstream:
            body = await upstream.read()
            self.forwarded.append(line)
            if fault is not None and fault.drop:
                assert request.transport is not None
                request.transport.close()  # the server acted; its answer never arrives
            return web.Response(
                status=upstream.status, body=body, content_type=upstream.content_type
            )


class StepTimer:
    """A monotonic clock that moves a quarter of a second each time it is read."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


@pytest.fixture
def base_url(client: Client) -> str:
    return str(client.make_url(""))


@pytest.fixture
async def proxy(base_url: str) -> AsyncIterator[Proxy]:
    async with Proxy(base_url) as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


def connect(url: str, token: str, sleeps: list[float], **options: Any) -> HandrailClient:
    """A client that never really sleeps: it records each wait in ``sleeps``."""

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return HandrailClient(url, token, wait=wait_none(), sleep=sleep, **options)


@pytest.fixture
async def handrail(proxy: Proxy, token: str, sleeps: list[float]) -> AsyncIterator[HandrailClient]:
    async with connect(proxy.url, token, sleeps, timer=StepTimer()) as client:
        yield client


async def lookup_order(order: str) -> str:
    raise TimeoutError(f"timeout after 30 s from order_lookup for {order}")


async def triage(run: Run) -> None:
    async with run:
        await run.note("start", "looking the order up")
        await lookup_order("A-1")


async def test_run_records_steps_in_order_with_durations(handrail: HandrailClient) -> None:
    """A run used as a context manager records its steps in order, timed, and succeeds."""
    async with handrail.run(input_source="ticket 4812", prompt_version="triage-v3") as run:
        await run.prompt("triage", "Tag this ticket: ...", version="triage-v3")
        async with run.model("classify", model="gpt-4o", settings={"temperature": 0}) as step:
            step.output = {"tag": "billing"}
            step.tokens_in, step.tokens_out = 812, 17
        async with run.tool("order_lookup", input={"order": "A-1"}) as step:
            step.output = {"status": "shipped"}
        await run.action("tag", input={"tags": ["billing"]}, output="ok")
        await run.note("done", "tagged without review")
        run.result = {"tags": ["billing"]}
    story = await handrail.get_run(run.run_id)
    assert story["status"] == "succeeded"
    assert story["result"] == {"tags": ["billing"]}
    events = story["events"]
    assert [(e["type"], e["name"]) for e in events] == [
        ("prompt", "triage"),
        ("model", "classify"),
        ("tool", "order_lookup"),
        ("action", "tag"),
        ("note", "done"),
    ]
    model, tool = events[1], events[2]
    assert model["duration_ms"] == tool["duration_ms"] == 250
    assert model["started_at"] < model["ended_at"]
    assert (model["model"], model["tokens_in"], model["tokens_out"]) == ("gpt-4o", 812, 17)
    assert tool["output"] == {"status": "shipped"}
    assert tool["status"] == "ok"


async def test_body_that_raises_finishes_the_run_failed_with_its_traceback(
    handrail: HandrailClient,
) -> None:
    """A body that raises finishes the run as failed with the full traceback, and re-raises."""
    run = handrail.run()
    with pytest.raises(TimeoutError, match="order_lookup"):
        await triage(run)
    story = await handrail.get_run(run.run_id)
    assert story["status"] == "failed"
    assert story["error"].startswith("Traceback (most recent call last):")
    assert "in lookup_order" in story["error"]
    assert "TimeoutError: timeout after 30 s from order_lookup for A-1" in story["error"]
    assert [e["name"] for e in story["events"]] == ["start", "run failed"]
    assert story["events"][-1]["error"] == story["error"]


async def test_failing_tool_block_records_an_error_step(handrail: HandrailClient) -> None:
    """A tool block that raises is recorded as an error step with its traceback and timing."""
    async with handrail.run() as run:
        with pytest.raises(TimeoutError):
            async with run.tool("order_lookup", input={"order": "A-1"}) as step:
                step.output = await lookup_order("A-1")
    story = await handrail.get_run(run.run_id)
    (event,) = story["events"]
    assert event["status"] == "error"
    assert event["duration_ms"] == 250
    assert "in lookup_order" in event["error"]
    assert event["error"].rstrip().endswith("timeout after 30 s from order_lookup for A-1")
    assert story["status"] == "succeeded"


async def test_explicit_finish_is_not_overridden_on_exit(handrail: HandrailClient) -> None:
    """A run the body finished itself keeps that status when the block ends."""
    async with handrail.run() as run:
        await run.note("why", "the customer withdrew the ticket")
        await run.finish("cancelled")
    story = await handrail.get_run(run.run_id)
    assert story["status"] == "cancelled"
    assert [e["name"] for e in story["events"]] == ["why"]


async def test_cancelled_task_finishes_its_run_cancelled(handrail: HandrailClient) -> None:
    """A task cancelled inside its run finishes the run as cancelled and stays cancelled."""
    entered, never = asyncio.Event(), asyncio.Event()
    run = handrail.run()

    async def body() -> None:
        async with run:
            entered.set()
            await never.wait()

    task = asyncio.create_task(body())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await handrail.get_run(run.run_id))["status"] == "cancelled"


async def test_steps_after_finish_raise_conflict(handrail: HandrailClient) -> None:
    """A step recorded after the run finished is refused by the server, not lost quietly."""
    async with handrail.run() as run:
        await run.finish("succeeded")
        with pytest.raises(ConflictError, match="is finished"):
            await run.note("late", "too late")


async def test_batches_send_several_requests_and_every_event_once(
    proxy: Proxy, token: str, sleeps: list[float]
) -> None:
    """Steps go out in batch-size requests, and each arrives exactly once, in order."""
    async with connect(proxy.url, token, sleeps, batch_size=3) as handrail:
        async with handrail.run() as run:
            for i in range(8):
                await run.note(f"n{i}", "step")
        story = await handrail.get_run(run.run_id)
    assert proxy.count("/events") == 3
    assert [e["name"] for e in story["events"]] == [f"n{i}" for i in range(8)]
    assert len({e["id"] for e in story["events"]}) == 8


async def test_retry_after_a_503_delivers_the_batch(proxy: Proxy, handrail: HandrailClient) -> None:
    """Batches refused with 503 are resent until accepted, and stored once."""
    proxy.faults = [Fault("/events", status=503), Fault("/events", status=503)]
    async with handrail.run() as run:
        await run.note("only", "once")
    story = await handrail.get_run(run.run_id)
    assert proxy.count("/events") == 3
    assert [e["name"] for e in story["events"]] == ["only"]


async def test_retry_after_a_lost_answer_does_not_duplicate_events(
    proxy: Proxy, handrail: HandrailClient
) -> None:
    """A batch the server stored but whose answer was lost is resent and not stored twice."""
    proxy.faults = [Fault("/events", drop=True)]
    result = await handrail.log_events(
        (await handrail.start_run()).run_id,
        [{"type": "note", "name": "a"}, {"type": "note", "name": "b"}],
    )
    assert proxy.forwarded.count(proxy.seen[-1]) == 2
    assert (result.accepted, result.duplicates) == (0, 2)


async def test_retried_start_rejoins_the_same_run(proxy: Proxy, handrail: HandrailClient) -> None:
    """A start whose answer was lost is resent with the same client run ID: one run exists."""
    proxy.faults = [Fault("/api/v1/runs", drop=True)]
    started = await handrail.start_run(input_source="ticket 4812")
    assert proxy.count("/api/v1/runs") == 2
    assert started.created is False
    assert (await handrail.get_run(started.run_id))["input_source"] == "ticket 4812"


async def test_rate_limit_waits_as_long_as_retry_after_says(
    proxy: Proxy, handrail: HandrailClient, sleeps: list[float]
) -> None:
    """A 429 is retried after the number of seconds its Retry-After header gives."""
    proxy.faults = [Fault("/api/v1/runs", status=429, headers={"Retry-After": "7"})]
    await handrail.start_run()
    assert sleeps == [7.0]


async def test_failure_outlasting_retries_raises_unavailable(
    proxy: Proxy, token: str, sleeps: list[float]
) -> None:
    """A server that keeps failing raises HandrailUnavailable after max_attempts tries."""
    proxy.always = 503
    async with connect(proxy.url, token, sleeps, max_attempts=3) as handrail:
        with pytest.raises(HandrailUnavailable, match="after 3 attempt") as caught:
            await handrail.start_run()
    assert caught.value.status == 503
    assert caught.value.attempts == 3
    assert len(proxy.seen) == 3


async def test_deadline_stops_a_wait_that_would_cross_it(
    proxy: Proxy, token: str, sleeps: list[float]
) -> None:
    """A Retry-After longer than the deadline gives up at once instead of waiting."""
    proxy.faults = [Fault("/api/v1/runs", status=429, headers={"Retry-After": "120"})]
    async with connect(proxy.url, token, sleeps, deadline=30) as handrail:
        with pytest.raises(HandrailUnavailable) as caught:
            await handrail.start_run()
    assert caught.value.status == 429
    assert sleeps == []


async def test_unreachable_server_raises_unavailable_with_the_connection_error(
    token: str, sleeps: list[float]
) -> None:
    """No answer at all is retried, then raised as HandrailUnavailable naming the cause."""
    server = TestServer(web.Application(), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url(""))
    await server.close()
    async with connect(url, token, sleeps, max_attempts=2) as handrail:
        with pytest.raises(HandrailUnavailable) as caught:
            await handrail.start_run()
    assert isinstance(caught.value.error, httpx.ConnectError)
    assert caught.value.status is None


async def test_attempts_without_an_answer_time_out_then_raise_unavailable(
    proxy: Proxy, token: str, sleeps: list[float]
) -> None:
    """Each attempt that gets no answer within ``timeout`` is retried, then raised."""
    proxy.faults = [Fault("/api/v1/runs", hang=True), Fault("/api/v1/runs", hang=True)]
    async with connect(proxy.url, token, sleeps, timeout=0.05, max_attempts=2) as handrail:
        with pytest.raises(HandrailUnavailable) as caught:
            await handrail.start_run()
    assert isinstance(caught.value.error, asyncio.TimeoutError)
    assert len(proxy.seen) == 2


async def test_a_closed_client_refuses_calls(handrail: HandrailClient) -> None:
    """A call after close() fails loudly instead of opening a session nobody closes."""
    await handrail.close()
    with pytest.raises(RuntimeError, match="closed"):
        await handrail.start_run()


async def test_unauthorized_raises_at_once(proxy: Proxy, sleeps: list[float]) -> None:
    """A 401 raises Unauthorized on the first answer, without retrying."""
    async with connect(proxy.url, "hr_not-a-real-token", sleeps) as handrail:
        with pytest.raises(Unauthorized) as caught:
            await handrail.start_run()
    assert caught.value.status == 401
    assert len(proxy.seen) == 1


async def test_invalid_request_raises_at_once(proxy: Proxy, handrail: HandrailClient) -> None:
    """A 422 raises InvalidRequest with the server's details, without retrying."""
    run_id = (await handrail.start_run()).run_id
    unchecked = {"id": "e1", "type": "note", "name": ""}
    with pytest.raises(InvalidRequest) as caught:
        await handrail.log_events(run_id, [unchecked])
    assert caught.value.status == 422
    assert caught.value.details[0]["loc"] == "events[0].name"
    assert proxy.count("/events") == 1


async def test_unknown_run_raises_run_not_found(handrail: HandrailClient) -> None:
    """Reading a run that does not exist raises RunNotFound."""
    with pytest.raises(RunNotFound, match="no run 'run-missing'"):
        await handrail.get_run("run-missing")


async def test_batch_over_the_body_limit_is_split(proxy: Proxy, handrail: HandrailClient) -> None:
    """A batch the server refuses as too large (413) is sent again in halves, in order."""
    big = "x" * 150_000
    run_id = (await handrail.start_run()).run_id
    events = [{"type": "note", "name": f"big{i}", "output": big} for i in range(2)]
    result = await handrail.log_events(run_id, events)
    assert result.accepted == 2
    assert proxy.count("/events") == 3
    story = await handrail.get_run(run_id)
    assert [e["name"] for e in story["events"]] == ["big0", "big1"]
