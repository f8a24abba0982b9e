"""An ID in the path that no row could have is an unknown ID: a 404 naming it, on every store."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeToken, bearer

Client = TestClient[Any, Any]

#: Each route with an ID in its path, the body it is sent, and the location its 404 names.
ROUTES = [
    ("GET", "/api/v1/runs/{}", None, "run_id"),
    ("POST", "/api/v1/runs/{}/events", {"events": [{"type": "note", "name": "n"}]}, "run_id"),
    ("POST", "/api/v1/runs/{}/finish", {"status": "succeeded"}, "run_id"),
    ("POST", "/api/v1/runs/{}/gate", {"action": "send_reply", "draft": "Hi"}, "run_id"),
    ("POST", "/api/v1/runs/{}/handoffs", {"kind": "draft", "summary": "s"}, "run_id"),
    ("POST", "/api/v1/runs/{}/park", {"last_step": "fetch"}, "run_id"),
    ("GET", "/api/v1/handoffs/{}", None, "handoff_id"),
    ("GET", "/api/v1/parked/{}", None, "parked_id"),
    ("GET", "/api/v1/workflows/{}", None, "workflow"),
    ("POST", "/api/v1/workflows/{}/pause", {"reason": "r"}, "workflow"),
    ("POST", "/api/v1/workflows/{}/resume", {}, "workflow"),
]


@pytest.fixture
async def admin(client: Client, make_token: MakeToken) -> str:
    """A token that may call every route above."""
    return await make_token(
        scopes=("runs:write", "runs:read", "handoffs:write", "admin"),
    )


async def ask(client: Client, token: str, method: str, path: str, body: Any) -> Any:
    response = await client.request(method, path, json=body, headers=bearer(token))
    answer = await response.json()
    assert response.status == 404, answer
    assert answer["error"]["code"] == "not_found"
    return answer


@pytest.mark.parametrize(("method", "template", "body", "loc"), ROUTES)
async def test_a_nul_in_a_path_id_is_not_found(
    client: Client, admin: str, method: str, template: str, body: Any, loc: str
) -> None:
    """A NUL in the ID is answered 404 naming the parameter, never a store error."""
    answer = await ask(client, admin, method, template.format("ab%00cd"), body)
    assert [detail["loc"] for detail in answer["error"]["details"]] == [loc]


@pytest.mark.parametrize("character", ["%01", "%1B", "%7F", "%C2%85", "%0A"])
async def test_any_control_character_in_a_run_id_is_not_found(
    client: Client, admin: str, character: str
) -> None:
    """Escapes, DEL and C1 controls are refused like a NUL."""
    answer = await ask(client, admin, "GET", f"/api/v1/runs/run{character}1", None)
    assert answer["error"]["details"][0]["loc"] == "run_id"


@pytest.mark.parametrize(
    ("method", "template", "body", "loc", "length"),
    [
        ("GET", "/api/v1/runs/{}", None, "run_id", 129),
        (
            "POST",
            "/api/v1/runs/{}/events",
            {"events": [{"type": "note", "name": "n"}]},
            "run_id",
            129,
        ),
        ("POST", "/api/v1/runs/{}/gate", {"action": "send_reply", "draft": "Hi"}, "run_id", 129),
        ("GET", "/api/v1/handoffs/{}", None, "handoff_id", 33),
        ("GET", "/api/v1/parked/{}", None, "parked_id", 33),
        ("GET", "/api/v1/workflows/{}", None, "workflow", 65),
    ],
)
async def test_an_id_longer_than_its_column_is_not_found(
    client: Client, admin: str, method: str, template: str, body: Any, loc: str, length: int
) -> None:
    """An ID one character longer than the column it is looked up in is a 404 naming it."""
    answer = await ask(client, admin, method, template.format("x" * length), body)
    assert answer["error"]["details"][0]["loc"] == loc


async def test_an_id_as_long_as_its_column_is_looked_up(client: Client, admin: str) -> None:
    """A run ID of exactly 128 characters is still an ordinary ID."""
    run_id = "r" * 128
    created = await client.post("/api/v1/runs", json={"run_id": run_id}, headers=bearer(admin))
    assert created.status == 201, await created.text()
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(admin))
    assert response.status == 200
