"""Request IDs are stored as step IDs: a secret in one is redacted, and retries still match.

A request ID is the key a retried request is recognised by, so it cannot simply be
replaced by its redacted text: two IDs that differ only in their secret would then collide.
The stored ID is the redacted text with a digest of the whole ID beside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import Services
from store.models import Event
from tests.conftest import bearer

Client = TestClient[Any, Any]

TOKEN = "gh" + "p_FAKEfake0123456789abcdefABCDEF012345"
OTHER = "gh" + "p_FAKEfake0123456789abcdefABCDEF999999"
ROUTES: dict[str, dict[str, Any]] = {
    "gate": {"action": "send_reply", "draft": "Hi", "confidence": 0.9},
    "handoffs": {"kind": "tool_failure", "summary": "order_lookup failed"},
    "park": {"last_step": "extract", "error": "order_lookup failed"},
}


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


async def ask(client: Client, token: str, run_id: str, route: str, request_id: str) -> Any:
    response = await client.post(
        f"/api/v1/runs/{run_id}/{route}",
        json={**ROUTES[route], "request_id": request_id},
        headers=bearer(token),
    )
    assert response.status in (200, 201), await response.text()
    return await response.json()


async def step_ids(services: Services, run_id: str) -> list[str]:
    """The keys the server stored its own steps under (``gate:…``, ``handoff:…``, ``park:…``)."""
    async with services.readers() as db:
        rows = await db.scalars(
            select(Event.server_key).where(Event.run_id == run_id, Event.server_key.is_not(None))
        )
        return [str(row) for row in rows]


@pytest.mark.parametrize("route", list(ROUTES))
async def test_a_secret_in_a_request_id_is_never_stored(
    client: Client, token: str, services: Services, route: str
) -> None:
    """A request ID carrying a token is stored with the token replaced by its placeholder."""
    run_id = await new_run(client, token)
    await ask(client, token, run_id, route, f"retry:{TOKEN}")
    [stored] = await step_ids(services, run_id)
    assert TOKEN not in stored
    assert "[REDACTED:github_token]" in stored


@pytest.mark.parametrize("route", list(ROUTES))
async def test_a_retry_with_a_secret_request_id_gets_the_first_answer(
    client: Client, token: str, services: Services, route: str
) -> None:
    """The same request ID twice, secret and all, maps to the same step and the same answer."""
    run_id = await new_run(client, token)
    first = await ask(client, token, run_id, route, f"retry:{TOKEN}")
    again = await ask(client, token, run_id, route, f"retry:{TOKEN}")
    assert first == again
    assert len(await step_ids(services, run_id)) == 1


@pytest.mark.parametrize("route", ["gate", "handoffs"])
async def test_request_ids_differing_only_in_their_secret_stay_apart(
    client: Client, token: str, services: Services, route: str
) -> None:
    """Two request IDs that redact to the same text are still two requests."""
    run_id = await new_run(client, token)
    first = await ask(client, token, run_id, route, f"retry:{TOKEN}")
    second = await ask(client, token, run_id, route, f"retry:{OTHER}")
    assert first["handoff_id"] != second["handoff_id"]
    assert len(set(await step_ids(services, run_id))) == 2


async def test_a_clean_request_id_is_stored_as_sent(
    client: Client, token: str, services: Services
) -> None:
    """A request ID with nothing to redact keeps its text, so existing retries still match."""
    run_id = await new_run(client, token)
    await ask(client, token, run_id, "gate", "q-1")
    [stored] = await step_ids(services, run_id)
    assert stored.endswith("q-1")
