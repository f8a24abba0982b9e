"""The blocking client, called from plain sync code in a worker thread, against the real app.

Each test's sync code runs in ``asyncio.to_thread`` so the test's own loop stays free to
serve the app; the client itself runs on its private loop in its own thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import HandrailSyncClient, SyncRun, Unauthorized
from tenacity import wait_none

from tests.test_client import Fault, Proxy

Client = TestClient[Any, Any]


async def _no_sleep(seconds: float) -> None:
    """Retries in these tests never wait."""


def connect(url: str, token: str) -> HandrailSyncClient:
    return HandrailSyncClient(url, token, wait=wait_none(), sleep=_no_sleep)


@pytest.fixture
def base_url(client: Client) -> str:
    return str(client.make_url(""))


def lookup_order(order: str) -> str:
    raise TimeoutError(f"timeout after 30 s from order_lookup for {order}")


def look_up(run: SyncRun) -> None:
    with run.tool("order_lookup", input={"order": "A-1"}) as step:
        step.output = lookup_order("A-1")


def triage(run: SyncRun) -> None:
    with run:
        run.note("start", "looking the order up")
        lookup_order("A-1")


async def test_sync_run_records_steps_and_finishes_succeeded(base_url: str, token: str) -> None:
    """A sync run records its steps in order, timed, and finishes as succeeded."""

    def work() -> dict[str, Any]:
        with connect(base_url, token) as handrail:
            with handrail.run(input_source="ticket 4812") as run:
                run.prompt("triage", "Tag this ticket: ...", version="triage-v3")
                with run.model("classify", model="gpt-4o") as step:
                    step.output, step.tokens_in, step.tokens_out = "billing", 812, 17
                with run.tool("order_lookup", input={"order": "A-1"}) as step:
                    step.output = {"status": "shipped"}
                run.action("tag", input={"tags": ["billing"]})
                run.result = {"tags": ["billing"]}
            return handrail.get_run(run.run_id)

    story = await asyncio.to_thread(work)
    assert story["status"] == "succeeded"
    assert story["result"] == {"tags": ["billing"]}
    assert [e["type"] for e in story["events"]] == ["prompt", "model", "tool", "action"]
    assert story["events"][1]["tokens_in"] == 812
    assert all(e["duration_ms"] is not None for e in story["events"][1:3])


async def test_sync_body_that_raises_finishes_the_run_failed(base_url: str, token: str) -> None:
    """A sync run whose body raises is finished as failed with the traceback, and re-raises."""

    def work() -> dict[str, Any]:
        with connect(base_url, token) as handrail:
            run = handrail.run()
            with pytest.raises(TimeoutError, match="order_lookup"):
                triage(run)
            return handrail.get_run(run.run_id)

    story = await asyncio.to_thread(work)
    assert story["status"] == "failed"
    assert "in lookup_order" in story["error"]
    assert "TimeoutError: timeout after 30 s from order_lookup for A-1" in story["error"]


async def test_sync_failing_tool_block_records_an_error_step(base_url: str, token: str) -> None:
    """A sync tool block that raises is recorded as an error step and the error propagates."""

    def work() -> dict[str, Any]:
        with connect(base_url, token) as handrail:
            with handrail.run() as run, pytest.raises(TimeoutError):
                look_up(run)
            return handrail.get_run(run.run_id)

    story = await asyncio.to_thread(work)
    (event,) = story["events"]
    assert event["status"] == "error"
    assert "timeout after 30 s from order_lookup for A-1" in event["error"]


async def test_sync_unauthorized_raises_at_once(base_url: str) -> None:
    """The sync client raises the same typed error for a bad token."""

    def work() -> None:
        with connect(base_url, "hr_not-a-real-token") as handrail:
            handrail.start_run()

    with pytest.raises(Unauthorized):
        await asyncio.to_thread(work)


async def test_sync_retry_after_a_lost_answer_does_not_duplicate(base_url: str, token: str) -> None:
    """The sync client retries through the async transport, so a resent batch is stored once."""

    def work(url: str) -> tuple[int, int]:
        with connect(url, token) as handrail:
            run_id = handrail.start_run().run_id
            result = handrail.log_events(run_id, [{"type": "note", "name": "once"}])
            return result.accepted, result.duplicates

    async with Proxy(base_url) as proxy:
        proxy.faults = [Fault("/events", drop=True)]
        assert await asyncio.to_thread(work, proxy.url) == (0, 1)
        assert proxy.count("/events") == 2


async def test_sync_close_stops_the_background_thread(base_url: str, token: str) -> None:
    """Closing the sync client stops its private loop and thread."""

    def work() -> set[threading.Thread]:
        before = set(threading.enumerate())
        handrail = connect(base_url, token)
        handrail.start_run()
        handrail.close()
        return set(threading.enumerate()) - before

    assert await asyncio.to_thread(work) == set()
