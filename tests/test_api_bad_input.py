"""Bad input gets a JSON error naming the field, never a 500, and writes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import build_app
from bot.services import Services
from bot.settings import Settings
from store.models import Run
from tests.conftest import bearer

Client = TestClient[Any, Any]


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def events_of(client: Client, token: str, run_id: str) -> list[Any]:
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    return list((await response.json())["events"])


async def test_malformed_json_is_400(client: Client, token: str) -> None:
    """A body that is not JSON gets a 400 that says so."""
    response = await client.post(
        "/api/v1/runs",
        data=b'{"run_id": ',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    body = await response.json()
    assert response.status == 400
    assert body["error"]["code"] == "malformed_json"


async def test_unknown_event_type_names_the_field(client: Client, token: str) -> None:
    """An unknown event type is a 422 whose details point at events[1].type."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "ok"}, {"type": "telepathy", "name": "x"}]},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 422
    assert body["error"]["details"][0]["loc"] == "events[1].type"


async def test_a_rejected_batch_writes_nothing(client: Client, token: str) -> None:
    """One bad event in a batch means none of the batch is stored."""
    run_id = await new_run(client, token)
    await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={
            "events": [
                {"type": "note", "name": "fine"},
                {"type": "note", "tokens_in": -1, "name": "x"},
            ]
        },
        headers=bearer(token),
    )
    assert await events_of(client, token, run_id) == []


async def test_wrong_types_name_each_field(client: Client, token: str) -> None:
    """Wrong types are reported once per field with its location."""
    response = await client.post(
        "/api/v1/runs", json={"run_id": 5, "metadata": "x"}, headers=bearer(token)
    )
    locations = {d["loc"] for d in (await response.json())["error"]["details"]}
    assert response.status == 422
    assert {"run_id", "metadata"} <= locations


async def test_unknown_fields_are_rejected(client: Client, token: str) -> None:
    """A misspelt field is an error, not silently dropped data."""
    response = await client.post(
        "/api/v1/runs", json={"prompt_verison": "v2"}, headers=bearer(token)
    )
    body = await response.json()
    assert response.status == 422
    assert body["error"]["details"][0]["loc"] == "prompt_verison"


async def test_oversized_body_is_413_and_the_server_keeps_serving(
    client: Client, token: str
) -> None:
    """A body over the cap is refused with 413 and the next request still works."""
    run_id = await new_run(client, token)
    huge = {"events": [{"type": "note", "name": "big", "output": "x" * (300 * 1024)}]}
    response = await client.post(f"/api/v1/runs/{run_id}/events", json=huge, headers=bearer(token))
    body = await response.json()
    assert response.status == 413
    assert body["error"]["code"] == "body_too_large"
    assert (await client.get("/healthz")).status == 200


async def test_unknown_run_is_404(client: Client, token: str) -> None:
    """Events for a run that does not exist get a 404 naming the run."""
    response = await client.post(
        "/api/v1/runs/nope/events",
        json={"events": [{"type": "note", "name": "x"}]},
        headers=bearer(token),
    )
    body = await response.json()
    assert response.status == 404
    assert "nope" in body["error"]["message"]


async def test_empty_batch_is_422(client: Client, token: str) -> None:
    """A batch with no events is refused."""
    run_id = await new_run(client, token)
    response = await client.post(
        f"/api/v1/runs/{run_id}/events", json={"events": []}, headers=bearer(token)
    )
    assert response.status == 422


async def test_invalid_run_id_is_422(client: Client, token: str) -> None:
    """A client run ID with spaces or slashes is refused."""
    response = await client.post("/api/v1/runs", json={"run_id": "a b/c"}, headers=bearer(token))
    assert response.status == 422


async def test_unknown_route_is_a_json_404(client: Client) -> None:
    """Even a wrong URL answers with the JSON error shape."""
    response = await client.get("/api/v1/nothing-here")
    body = await response.json()
    assert response.status == 404
    assert body["error"]["code"] == "not_found"


async def test_a_request_line_over_8_kb_gets_a_json_414(client: Client, token: str) -> None:
    """A request target longer than 8 KB is refused with the API's JSON error, not a text 400."""
    response = await client.get(f"/api/v1/parked?status={'x' * 9000}", headers=bearer(token))
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (414, "uri_too_long")
    assert "8192" in body["error"]["message"]


async def test_a_request_line_far_over_the_limit_gets_a_json_error_too(client: Client) -> None:
    """Even a 100 KB request target is answered with the API's JSON error."""
    response = await client.get(f"/api/v1/runs/{'r' * 100_000}")
    assert response.status == 414
    assert (await response.json())["error"]["code"] == "uri_too_long"


async def test_a_client_that_hangs_up_mid_body_is_no_error(
    settings: Settings, services: Services, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that closes its connection before sending the body it announced leaves no
    ERROR line and no run behind (served as ``handrail serve`` serves: handlers run on)."""
    runner = web.AppRunner(build_app(settings, services=services, migrate=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/v1/runs HTTP/1.1\r\nHost: handrail\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"run_id": "gone'
        )
        await writer.drain()
        await asyncio.sleep(0.3)  # the handler is now waiting for the rest of the body
        writer.close()
        await writer.wait_closed()
        with contextlib.suppress(ConnectionError):
            await reader.read()
        await asyncio.sleep(0.3)  # the handler sees the connection lost
    finally:
        await runner.cleanup()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with services.sessions() as db:
        assert await db.get(Run, "gone") is None
