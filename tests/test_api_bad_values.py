"""Values JSON allows but a store cannot keep: a 422 naming the value, or a stored stand-in."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeToken, bearer

Client = TestClient[Any, Any]

BIG = 123456789012345678901234567890


async def new_run(client: Client, token: str, **body: Any) -> str:
    response = await client.post("/api/v1/runs", json=body, headers=bearer(token))
    assert response.status == 201
    return str((await response.json())["run_id"])


async def read_run(client: Client, token: str, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    body: dict[str, Any] = await response.json()
    return body


async def post_raw(client: Client, token: str, path: str, raw: str) -> tuple[int, Any]:
    response = await client.post(
        path,
        data=raw.encode(),
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    return response.status, await response.json()


def locations(body: Any) -> list[str]:
    return [detail["loc"] for detail in body["error"]["details"]]


async def test_huge_integer_in_event_input_names_the_value(client: Client, token: str) -> None:
    """An integer too large for the store inside an event's input is a 422 at that value."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "x", "input": {"n": [1, BIG]}}]},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["events[0].input.n[1]"]
    assert (await read_run(client, token, run_id))["events"] == []


async def test_huge_integer_in_run_metadata_is_422(client: Client, token: str) -> None:
    """Run metadata with an integer of 2^63 is refused and no run is created."""
    response = await client.post(
        "/api/v1/runs",
        json={"run_id": "big-meta", "metadata": {"order": 2**63}},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["metadata.order"]
    assert (await client.get("/api/v1/runs/big-meta", headers=bearer(token))).status == 404


async def test_huge_integer_in_finish_result_is_422(client: Client, token: str) -> None:
    """A finish result holding an integer below -2^63 is refused and the run stays open."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/finish",
        json={"status": "succeeded", "result": {"ids": [-(2**63) - 1]}},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["result.ids[0]"]
    assert (await read_run(client, token, run_id))["status"] == "running"


async def test_largest_storable_integers_are_kept(client: Client, token: str) -> None:
    """The 64-bit bounds themselves are stored and read back exactly."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "x", "input": [2**63 - 1, -(2**63)]}]},
        headers=bearer(token),
    )
    assert response.status == 202
    assert (await read_run(client, token, run_id))["events"][0]["input"] == [2**63 - 1, -(2**63)]


@pytest.mark.parametrize("tokens", [3_000_000_000, 2**63])
async def test_token_counts_beyond_the_column_are_422(
    client: Client, token: str, tokens: int
) -> None:
    """A token count the 32-bit column cannot hold is refused on both stores."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "model", "name": "llm", "tokens_in": tokens}]},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["events[0].tokens_in"]


async def test_nul_characters_are_stored_as_replacement_characters(
    client: Client, token: str
) -> None:
    """A NUL in any stored string, key or value, becomes U+FFFD on both stores."""
    run_id = await new_run(
        client, token, input_source="mail\u0000box", metadata={"k\u0000": ["v\u0000"]}
    )
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={
            "events": [
                {
                    "type": "tool",
                    "name": "look\u0000up",
                    "input": {"q\u0000": {"deep": "a\u0000b"}},
                    "error": "boom\u0000",
                }
            ]
        },
        headers=bearer(token),
    )
    assert response.status == 202
    finish = await client.post(
        f"/api/v1/runs/{run_id}/finish",
        json={"status": "failed", "error": "tool\u0000died"},
        headers=bearer(token),
    )
    assert finish.status == 200
    run = await read_run(client, token, run_id)
    event = run["events"][0]
    assert (run["input_source"], run["metadata"], run["error"]) == (
        "mail\ufffdbox",
        {"k\ufffd": ["v\ufffd"]},
        "tool\ufffddied",
    )
    assert (event["name"], event["input"], event["error"]) == (
        "look\ufffdup",
        {"q\ufffd": {"deep": "a\ufffdb"}},
        "boom\ufffd",
    )


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"],
)
async def test_timestamp_outside_storable_years_is_422(
    client: Client, token: str, moment: str
) -> None:
    """A timestamp outside the years 1000 to 9999 in UTC is a 422 on its field."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "x", "started_at": moment}]},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["events[0].started_at"]
    assert (await read_run(client, token, run_id))["events"] == []


async def test_timestamps_at_the_storable_edges_read_back(client: Client, token: str) -> None:
    """The first moment of the year 1000 and the last of 9999, in UTC, are kept as sent."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={
            "events": [
                {
                    "type": "note",
                    "name": "x",
                    "started_at": "1000-01-01T00:00:00Z",
                    "ended_at": "9999-12-31T23:59:59.999999Z",
                }
            ]
        },
        headers=bearer(token),
    )
    assert response.status == 202
    event = (await read_run(client, token, run_id))["events"][0]
    assert (event["started_at"], event["ended_at"]) == (
        "1000-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999+00:00",
    )


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e999"])
async def test_non_finite_duration_is_422(client: Client, token: str, number: str) -> None:
    """A duration that is not a finite number is refused instead of stored as null."""
    run_id = await new_run(client, token)
    status, body = await post_raw(
        client,
        token,
        f"/api/v1/runs/{run_id}/events",
        f'{{"events": [{{"type": "note", "name": "x", "duration_ms": {number}}}]}}',
    )
    assert status == 422
    assert locations(body) == ["events[0].duration_ms"]


async def test_non_finite_number_in_input_names_the_value(client: Client, token: str) -> None:
    """NaN inside an event's input is a 422 at that value and nothing is stored."""
    run_id = await new_run(client, token)
    status, body = await post_raw(
        client,
        token,
        f"/api/v1/runs/{run_id}/events",
        '{"events": [{"type": "note", "name": "x", "output": {"score": [0.5, NaN]}}]}',
    )
    assert status == 422
    assert locations(body) == ["events[0].output.score[1]"]
    assert (await read_run(client, token, run_id))["events"] == []


@pytest.mark.parametrize("confidence", [True, "1", "0.99"])
async def test_gate_confidence_must_be_a_number(
    client: Client, token: str, confidence: Any
) -> None:
    """A boolean or string confidence is refused, never read as a number that could allow."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "tag", "confidence": confidence},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["confidence"]
    assert (await read_run(client, token, run_id))["events"] == []


async def test_gate_confidence_accepts_whole_numbers(client: Client, make_token: MakeToken) -> None:
    """The integer 1 is a valid confidence, and a full one lets an auto workflow act."""
    token = await make_token("invoice-extraction")
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "record_invoice", "confidence": 1},
        headers=bearer(token),
    )
    assert response.status == 200
    assert (await response.json())["verdict"] == "allow"


async def test_handoff_confidence_must_be_a_number(client: Client, token: str) -> None:
    """A handoff's confidence given as a string is refused and no handoff is opened."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"kind": "other", "summary": "look", "confidence": "0.5"},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == ["confidence"]
    assert (await read_run(client, token, run_id))["handoffs"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("tokens_in", True), ("tokens_out", "12"), ("duration_ms", "12.5")],
)
async def test_event_numbers_are_not_coerced(
    client: Client, token: str, field: str, value: Any
) -> None:
    """Token counts and durations given as booleans or strings are refused, not converted."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "model", "name": "llm", field: value}]},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert locations(body) == [f"events[0].{field}"]


async def test_malformed_json_reports_where(client: Client, token: str) -> None:
    """A body that is not JSON gets one detail at the body with the parser's line and column."""
    status, body = await post_raw(client, token, "/api/v1/runs", '{\n  "run_id": ')
    assert status == 400
    assert body["error"]["details"] == [
        {
            "loc": "body",
            "message": body["error"]["details"][0]["message"],
            "type": "json_invalid",
            "line": 2,
            "column": 12,
        }
    ]


async def test_bare_numbers_as_json_values_read_back(client: Client, token: str) -> None:
    """An input, output or result that is a bare number reads back as that number."""
    run_id = await new_run(client, token)
    await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "x", "input": 5, "output": 0.5}]},
        headers=bearer(token),
    )
    await client.post(
        f"/api/v1/runs/{run_id}/finish",
        json={"status": "succeeded", "result": 7},
        headers=bearer(token),
    )
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    run = await response.json()
    assert response.status == 200
    assert (run["events"][0]["input"], run["events"][0]["output"], run["result"]) == (5, 0.5, 7)
