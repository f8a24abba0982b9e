"""``@step`` and ``@requires_approval`` against the real server, for async and sync code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import handrail_client as handrail
import pytest
from aiohttp.test_utils import TestClient
from handrail_client import (
    ApprovalRejected,
    HandrailClient,
    HandrailClientError,
    HandrailSyncClient,
    NoCurrentRun,
)
from tenacity import wait_none

from bot.services import Services
from tests.conftest import MakeToken
from tests.test_client_review import approve, first_pending_handoff


@pytest.fixture
def base_url(client: TestClient[Any, Any]) -> str:
    return str(client.make_url(""))


@pytest.fixture
async def handrail_api(client: TestClient[Any, Any], token: str) -> AsyncIterator[HandrailClient]:
    async with HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api:
        yield api


@handrail.step("order_lookup")
async def look_up_order(order: str, *, verbose: bool = False) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"order": order, "status": "shipped"}


@handrail.step("refund_lookup")
async def look_up_refund(order: str) -> None:
    raise TimeoutError(f"timeout after 30 s from refund_lookup for {order}")


@handrail.step("tag_ticket", kind="action")
def tag_ticket(ticket: str, tags: list[str]) -> list[str]:
    return sorted(tags)


async def note_from_deep_inside() -> None:
    run = handrail.current_run()
    assert isinstance(run, handrail.Run)
    await run.note("helper", "called without the run passed in")


sent: list[str] = []


@handrail.requires_approval(action="send_reply", summary="reply to ticket 4812")
async def send_reply(ticket: str, text: str) -> str:
    sent.append(text)
    return f"sent to {ticket}"


@handrail.requires_approval(action="send_reply")
def send_reply_sync(ticket: str, draft: str) -> str:
    sent.append(draft)
    return f"sent to {ticket}"


@handrail.requires_approval(action="record_invoice")
async def record_invoice(invoice: str, total: float, confidence: float) -> str:
    return f"{invoice}: {total:.2f}"


@pytest.fixture(autouse=True)
def nothing_sent() -> None:
    sent.clear()


async def test_async_step_records_arguments_output_and_duration(
    handrail_api: HandrailClient,
) -> None:
    """A decorated async call becomes a tool step with its arguments, result and duration."""
    async with handrail_api.run() as run:
        assert await look_up_order("A-1", verbose=True) == {"order": "A-1", "status": "shipped"}
    [event] = (await handrail_api.get_run(run.run_id))["events"]
    assert (event["type"], event["name"], event["status"]) == ("tool", "order_lookup", "ok")
    assert event["input"] == {"order": "A-1", "verbose": True}
    assert event["output"] == {"order": "A-1", "status": "shipped"}
    assert event["duration_ms"] >= 0


async def test_async_step_error_propagates_and_is_recorded_in_full(
    handrail_api: HandrailClient,
) -> None:
    """The function's own exception propagates unchanged and the step keeps its full text."""
    with pytest.raises(TimeoutError, match="refund_lookup for A-1"):
        async with handrail_api.run() as run:
            await look_up_refund("A-1")
    story = await handrail_api.get_run(run.run_id)
    event = story["events"][0]
    assert (event["name"], event["status"]) == ("refund_lookup", "error")
    assert "TimeoutError: timeout after 30 s from refund_lookup for A-1" in event["error"]
    assert "Traceback" in event["error"]
    assert story["status"] == "failed"


async def test_sync_step_in_an_async_run_is_queued_and_sent_with_the_run(
    handrail_api: HandrailClient,
) -> None:
    """A sync decorated call inside an async run is queued without blocking, then sent."""
    async with handrail_api.run() as run:
        assert tag_ticket("4812", ["urgent", "billing"]) == ["billing", "urgent"]
        assert [event["name"] for event in run.pending] == ["tag_ticket"]
    [event] = (await handrail_api.get_run(run.run_id))["events"]
    assert (event["type"], event["output"]) == ("action", ["billing", "urgent"])


async def test_sync_step_in_a_sync_run_is_recorded(base_url: str, token: str) -> None:
    """A sync decorated call inside a HandrailSyncClient run is recorded as a step."""

    def work() -> dict[str, Any]:
        with HandrailSyncClient(base_url, token, wait=wait_none()) as api:
            with api.run() as run:
                tag_ticket("4812", ["billing"])
            return api.get_run(run.run_id)

    story = await asyncio.to_thread(work)
    assert [event["name"] for event in story["events"]] == ["tag_ticket"]


async def test_step_outside_a_run_runs_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    """Outside any run the call still happens, and a warning says the step was not recorded."""
    with caplog.at_level(logging.WARNING, logger="handrail.client"):
        assert await look_up_order("A-2") == {"order": "A-2", "status": "shipped"}
    assert "step 'order_lookup' ran outside any run; not recorded" in caplog.text


async def test_nested_helper_finds_the_current_run(handrail_api: HandrailClient) -> None:
    """A helper several calls deep records into the run without being handed it."""
    async with handrail_api.run() as run:
        await note_from_deep_inside()
    assert handrail.current_run() is None
    [event] = (await handrail_api.get_run(run.run_id))["events"]
    assert (event["type"], event["name"]) == ("note", "helper")


async def test_gated_function_runs_with_the_edited_text(
    handrail_api: HandrailClient, services: Services
) -> None:
    """An approved gated call runs once, with the reviewer's edit in place of its text."""
    async with handrail_api.run():
        waiting = asyncio.create_task(send_reply("4812", "Hi there"))
        handoff_id = await first_pending_handoff(services)
        assert sent == []
        await approve(services, handoff_id, outcome="edited", final_text="Hello there")
        assert await asyncio.wait_for(waiting, 10) == "sent to 4812"
    assert sent == ["Hello there"]


async def test_gated_function_is_not_run_when_rejected(
    handrail_api: HandrailClient, services: Services
) -> None:
    """A rejected gated call raises ApprovalRejected with the reason, and never runs."""
    async with handrail_api.run():
        waiting = asyncio.create_task(send_reply("4812", "Refund approved!"))
        handoff_id = await first_pending_handoff(services)
        await approve(services, handoff_id, outcome="rejected", reason="no refund promises")
        with pytest.raises(ApprovalRejected, match="rejected by U0ALICE: no refund promises"):
            await asyncio.wait_for(waiting, 10)
    assert sent == []


async def test_gated_function_allowed_by_policy_runs_at_once(
    base_url: str, make_token: MakeToken
) -> None:
    """An action the policy allows, at a confident enough ``confidence``, runs at once."""
    token = await make_token("invoice-extraction")
    async with HandrailClient(base_url, token, wait=wait_none()) as api, api.run():
        assert await asyncio.wait_for(record_invoice("INV-7", 12.5, 0.95), 10) == "INV-7: 12.50"


async def test_gated_function_outside_a_run_is_refused() -> None:
    """Without a run there is nothing to ask about: NoCurrentRun, and the function never runs."""
    with pytest.raises(NoCurrentRun, match="send_reply needs approval"):
        await send_reply("4812", "Hi")
    assert sent == []


async def test_sync_gated_function_waits_for_approval(
    base_url: str, token: str, services: Services
) -> None:
    """A sync gated call in a sync run waits for the person, then runs with the approved text."""

    def work() -> str:
        with HandrailSyncClient(base_url, token, wait=wait_none()) as api, api.run():
            return send_reply_sync("4812", draft="Hi there")

    waiting = asyncio.create_task(asyncio.to_thread(work))
    handoff_id = await first_pending_handoff(services)
    await approve(services, handoff_id, outcome="approved")
    assert await asyncio.wait_for(waiting, 10) == "sent to 4812"
    assert sent == ["Hi there"]


async def test_sync_gated_function_refuses_to_block_an_event_loop(
    handrail_api: HandrailClient,
) -> None:
    """A sync gated call made inside an async run raises instead of blocking the loop."""
    async with handrail_api.run():
        with pytest.raises(HandrailClientError, match="would block the event loop"):
            send_reply_sync("4812", draft="Hi")
    assert sent == []


class Orders:
    @handrail.step("order_count")
    def count(self, customer: str, *, open_only: bool = True) -> int:
        return 3


async def test_step_on_a_method_leaves_self_out(handrail_api: HandrailClient) -> None:
    """A decorated method records its arguments by name, without ``self``."""
    async with handrail_api.run() as run:
        assert Orders().count("C-9", open_only=False) == 3
    [event] = (await handrail_api.get_run(run.run_id))["events"]
    assert event["input"] == {"customer": "C-9", "open_only": False}
