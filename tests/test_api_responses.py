"""How the API answers on the wire: JSON that ends in a newline, and a 405 that helps."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import bearer

#: One request per kind of answer: success, created, accepted, and each error path.
REQUESTS = [
    ("GET", "/healthz", None, False),
    ("POST", "/api/v1/runs", {"run_id": "run-nl"}, True),
    ("GET", "/api/v1/runs/no-such-run", None, True),
    ("POST", "/api/v1/runs", {"run_id": 7}, True),
    ("POST", "/api/v1/runs", None, False),
    ("GET", "/api/v1/no/such/path", None, False),
    ("DELETE", "/api/v1/runs", None, False),
    ("GET", "/api/v1/workflows/ticket-triage", None, True),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "signed"), REQUESTS, ids=[f"{m} {p}" for m, p, _, _ in REQUESTS]
)
async def test_every_json_answer_ends_with_a_newline(
    client: TestClient[Any, Any],
    token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    signed: bool,
) -> None:
    """A JSON body, success or error, ends in a newline so curl's output leaves the prompt be."""
    response = await client.request(
        method, path, json=body, headers=bearer(token) if signed else {}
    )
    assert response.content_type == "application/json"
    raw = await response.read()
    assert raw.endswith(b"}\n"), raw


async def test_a_wrong_method_names_the_methods_the_path_takes(
    client: TestClient[Any, Any],
) -> None:
    """A 405 is the API's JSON error naming the allowed methods, with an ``Allow`` header."""
    response = await client.delete("/api/v1/runs/run-1/finish")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    body = await response.json()
    assert body["error"]["code"] == "method_not_allowed"
    assert body["error"]["message"] == (
        "/api/v1/runs/run-1/finish does not take DELETE; it takes POST"
    )
    assert body["error"]["details"] == [{"loc": "method", "method": "DELETE", "allowed": ["POST"]}]


async def test_allow_lists_every_method_the_path_takes(client: TestClient[Any, Any]) -> None:
    """A path read with GET lists GET and HEAD (which aiohttp answers with it) in ``Allow``."""
    response = await client.put("/healthz")
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD"
