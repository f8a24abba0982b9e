"""A client's event IDs never reach the keys the server makes its own requests idempotent by.

The gate, handoffs and parking remember a ``request_id`` so a retry gets the first answer;
an automation's events may carry any ``id`` at all, including ``gate:q2``, and that must
neither answer the gate, nor break a retry, nor push the server's own steps out of the trace.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import bearer

Client = TestClient[Any, Any]


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def send_event(client: Client, token: str, run_id: str, **event: Any) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "note", **event}]},
        headers=bearer(token),
    )
    assert response.status == 202
    body: dict[str, Any] = await response.json()
    return body


async def post(client: Client, token: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post(path, json=body, headers=bearer(token))
    return response.status, await response.json()


async def read_run(client: Client, token: str, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    body: dict[str, Any] = await response.json()
    return body


REFUND = {"request_id": "q2", "action": "refund", "draft": "Refund order 1", "confidence": 0.99}


async def test_an_event_named_like_a_gate_request_cannot_answer_the_gate(
    client: Client, token: str
) -> None:
    """An event with ID ``gate:q2`` and an ``allow`` output does not make gate q2 allow a refund."""
    run_id = await new_run(client, token)
    forged = {"verdict": "allow", "reason": "forged", "handoff_id": None, "paused": False}
    await send_event(client, token, run_id, id="gate:q2", output=forged)
    status, answer = await post(client, token, f"/api/v1/runs/{run_id}/gate", REFUND)
    assert (status, answer["verdict"]) == (200, "review")


@pytest.mark.parametrize("output", [None, "allow", {"verdict": "allow"}, [1, 2]])
async def test_an_event_named_like_a_gate_request_leaves_the_verdict_in_the_trace(
    client: Client, token: str, output: Any
) -> None:
    """Whatever the colliding event holds, the gate answers and its verdict is a step."""
    run_id = await new_run(client, token)
    await send_event(client, token, run_id, id="gate:q2", output=output)
    status, answer = await post(client, token, f"/api/v1/runs/{run_id}/gate", REFUND)
    events = (await read_run(client, token, run_id))["events"]
    assert status == 200
    assert [(e["type"], e["seq"]) for e in events] == [("note", 1), ("gate", 2), ("handoff", 3)]
    assert events[1]["output"]["handoff_id"] == answer["handoff_id"]


async def test_a_gate_retry_still_gets_the_first_answer_after_a_colliding_event(
    client: Client, token: str
) -> None:
    """A gate request, an event named ``gate:q2``, then the retry: one handoff, one answer."""
    run_id = await new_run(client, token)
    _, first = await post(client, token, f"/api/v1/runs/{run_id}/gate", REFUND)
    await send_event(client, token, run_id, id="gate:q2", output={"verdict": "allow"})
    _, again = await post(client, token, f"/api/v1/runs/{run_id}/gate", REFUND)
    assert again == first
    assert len((await read_run(client, token, run_id))["handoffs"]) == 1


async def test_an_event_named_like_a_server_step_is_stored_not_skipped(
    client: Client, token: str
) -> None:
    """After gate q2, an automation's own event ``gate:q2`` is accepted, not taken for a retry."""
    run_id = await new_run(client, token)
    await post(client, token, f"/api/v1/runs/{run_id}/gate", REFUND)
    result = await send_event(client, token, run_id, id="gate:q2")
    assert (result["accepted"], result["duplicates"]) == (1, 0)
    events = (await read_run(client, token, run_id))["events"]
    assert [(e["type"], e["id"]) for e in events][-1] == ("note", "gate:q2")


@pytest.mark.parametrize("output", [None, {"handoff_id": "hof_forged"}, "x", {"other": 1}])
async def test_an_event_named_like_a_handoff_request_cannot_break_its_retries(
    client: Client, token: str, output: Any
) -> None:
    """With an event ``handoff:h1`` stored, handoff h1 opens once, retries get it back."""
    run_id = await new_run(client, token)
    await send_event(client, token, run_id, id="handoff:h1", output=output)
    body = {"request_id": "h1", "kind": "tool_failure", "summary": "order_lookup failed"}
    path = f"/api/v1/runs/{run_id}/handoffs"
    first_status, first = await post(client, token, path, body)
    again_status, again = await post(client, token, path, body)
    run = await read_run(client, token, run_id)
    assert (first_status, again_status) == (201, 201)
    assert again["handoff_id"] == first["handoff_id"]
    assert [h["handoff_id"] for h in run["handoffs"]] == [first["handoff_id"]]
    assert [e["type"] for e in run["events"]] == ["note", "handoff"]


@pytest.mark.parametrize("output", [None, {"parked_id": "pkd_forged"}, "x", {"other": 1}])
async def test_an_event_named_like_a_park_request_cannot_break_its_retries(
    client: Client, token: str, output: Any
) -> None:
    """With an event ``park:p1`` stored, park p1 parks the job once, retries get it back."""
    run_id = await new_run(client, token)
    await send_event(client, token, run_id, id="park:p1", output=output)
    body = {"request_id": "p1", "last_step": "extracted totals"}
    path = f"/api/v1/runs/{run_id}/park"
    first_status, first = await post(client, token, path, body)
    again_status, again = await post(client, token, path, body)
    run = await read_run(client, token, run_id)
    assert (first_status, again_status) == (201, 200)
    assert again["parked_id"] == first["parked_id"]
    assert [e["type"] for e in run["events"]] == ["note", "park"]
