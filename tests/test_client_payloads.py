"""What a run records always reaches the server: odd values, huge values, refused steps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import HandrailClient, HandrailSyncClient, InvalidRequest
from handrail_client.payloads import json_safe

from tests.test_client import Fault, Proxy, connect

#: The test app's ``HANDRAIL_MAX_BODY_BYTES`` (see ``tests/conftest.py``).
SERVER_CAP = 256 * 1024


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


@pytest.fixture
async def proxy(client: TestClient[Any, Any]) -> AsyncIterator[Proxy]:
    async with Proxy(str(client.make_url(""))) as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def capped(proxy: Proxy, token: str, sleeps: list[float]) -> AsyncIterator[HandrailClient]:
    """A client told the server's real body cap."""
    async with connect(proxy.url, token, sleeps, max_body_bytes=SERVER_CAP) as client:
        yield client


@pytest.fixture
async def uncapped(proxy: Proxy, token: str, sleeps: list[float]) -> AsyncIterator[HandrailClient]:
    """A client left at the default cap (1 MiB), four times the test server's."""
    async with connect(proxy.url, token, sleeps) as client:
        yield client


def test_values_json_cannot_hold_become_text() -> None:
    """Objects become their repr, ints beyond 64 bits strings, keys strings, cycles a marker."""
    loop: list[Any] = []
    loop.append(loop)
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    safe = json_safe(
        {
            "obj": Opaque(),
            "big": 2**70,
            "fits": 2**63 - 1,
            1: (when, uuid.UUID(int=0)),
            "loop": loop,
            "surrogate": "a\ud800b",
        }
    )
    assert safe == {
        "obj": "<Opaque thing>",
        "big": "1180591620717411303424",
        "fits": 2**63 - 1,
        "1": ["2025-01-02T03:04:05+00:00", "00000000-0000-0000-0000-000000000000"],
        "loop": ["[circular reference]"],
        "surrogate": "a?b",
    }


async def test_an_unencodable_output_does_not_spoil_its_batch(capped: HandrailClient) -> None:
    """A step whose output JSON cannot hold is stored as text, and the steps around it too."""
    async with capped.run() as run:
        await run.note("before", "fine")
        async with run.tool("lookup") as step:
            step.output = {"obj": Opaque(), "n": 2**70}
        await run.note("after", "fine")
    story = await capped.get_run(run.run_id)
    assert story["status"] == "succeeded"
    assert [e["name"] for e in story["events"]] == ["before", "lookup", "after"]
    assert story["events"][1]["output"] == {"obj": "<Opaque thing>", "n": "1180591620717411303424"}


async def test_an_unencodable_result_still_finishes_the_run(capped: HandrailClient) -> None:
    """A run result JSON cannot hold is stored as text instead of leaving the run open."""
    async with capped.run() as run:
        run.result = {"obj": Opaque()}
    story = await capped.get_run(run.run_id)
    assert story["status"] == "succeeded"
    assert story["result"] == {"obj": "<Opaque thing>"}


async def test_an_oversized_output_is_clipped_with_a_marker(capped: HandrailClient) -> None:
    """An output larger than the body cap is clipped, saying how much was cut."""
    async with capped.run() as run, run.model("draft", model="gpt-4o") as step:
        step.output = "x" * 2_000_000
    story = await capped.get_run(run.run_id)
    assert story["status"] == "succeeded"
    (event,) = story["events"]
    kept, marker = event["output"].split("…")
    assert set(kept) == {"x"}
    assert marker == f"[clipped {2_000_000 - len(kept):,} chars]"


async def test_large_steps_are_sent_in_requests_under_the_cap(
    proxy: Proxy, capped: HandrailClient
) -> None:
    """Steps are packed into requests by encoded size, so none is refused as too large."""
    async with capped.run() as run:
        for i in range(5):
            await run.note(f"n{i}", "y" * 100_000)
    story = await capped.get_run(run.run_id)
    assert [e["name"] for e in story["events"]] == [f"n{i}" for i in range(5)]
    assert proxy.count("/events") == 3  # two per request; not one 413 among them


async def test_body_error_survives_a_step_the_server_refuses(uncapped: HandrailClient) -> None:
    """When a step cannot be sent, the body's own exception propagates and the run fails."""
    run = uncapped.run()

    async def render() -> None:
        async with run:
            await run.note("before", "fine")
            async with run.tool("render") as step:
                step.output = "x" * 2_000_000  # clipped to 1 MiB: four times the server's cap
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom") as caught:
        await render()
    notes = getattr(caught.value, "__notes__", [])
    assert len(notes) == 1
    assert "1 step(s) of this run could not be sent to Handrail" in notes[0]
    assert "413" in notes[0]
    story = await uncapped.get_run(run.run_id)
    assert story["status"] == "failed"
    assert "KeyError: 'boom'" in story["error"]
    assert "1 step(s) of this run could not be sent to Handrail" in story["error"]
    assert [e["name"] for e in story["events"]] == ["before", "run failed"]


async def test_send_failure_without_a_body_error_still_raises(
    proxy: Proxy, capped: HandrailClient
) -> None:
    """A body that did not raise gets the refusal itself, as any other call would."""
    proxy.faults = [Fault("/events", status=422)]
    with pytest.raises(InvalidRequest, match="planned 422"):
        async with capped.run() as run:
            await run.note("refused", "by the proxy")


async def test_sync_body_error_survives_a_step_the_server_refuses(proxy: Proxy, token: str) -> None:
    """The blocking client also finishes the run failed and re-raises the body's exception."""

    def body() -> tuple[str, BaseException]:
        with HandrailSyncClient(proxy.url, token) as handrail:
            run = handrail.run()
            try:
                with run:
                    run.note("before", "fine")
                    raise KeyError("boom")
            except KeyError as exc:
                return run.run_id, exc
        raise AssertionError("the body's exception did not propagate")

    proxy.faults = [Fault("/events", status=422)]
    run_id, exc = await asyncio.to_thread(body)
    assert "could not be sent to Handrail" in getattr(exc, "__notes__", [""])[0]
    async with connect(proxy.url, token, []) as handrail:
        story = await handrail.get_run(run_id)
    assert story["status"] == "failed"
    assert "KeyError: 'boom'" in story["error"]
    assert [e["name"] for e in story["events"]] == ["run failed"]
