"""Tokens: hashed, scoped, expiring; each failure has its own status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import Services
from store.models import Credential
from tests.conftest import MakeToken, bearer
from workflows import credentials
from workflows.clock import ManualClock

Client = TestClient[Any, Any]


async def test_missing_token_is_401(client: Client) -> None:
    """A request without a token is refused with a message saying what to send."""
    response = await client.post("/api/v1/runs", json={})
    body = await response.json()
    assert response.status == 401
    assert "Authorization" in body["error"]["message"]


async def test_wrong_token_is_401(client: Client, token: str) -> None:
    """A token whose secret does not match is refused."""
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = await client.post("/api/v1/runs", json={}, headers=bearer(forged))
    assert response.status == 401


async def test_expired_token_is_401(
    client: Client, make_token: MakeToken, clock: ManualClock
) -> None:
    """A token past its expiry is refused."""
    token = await make_token(expires_in=timedelta(days=1))
    clock.advance(days=2)
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    assert response.status == 401
    assert "expired" in (await response.json())["error"]["message"]


async def test_revoked_token_is_401(client: Client, token: str, services: Services) -> None:
    """A revoked token is refused at once."""
    prefix = token.removeprefix("hr_").split("_")[0]
    async with services.sessions() as db, db.begin():
        await credentials.revoke_token(db, prefix_or_id=prefix, now=services.clock())
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    assert response.status == 401
    assert "revoked" in (await response.json())["error"]["message"]


async def test_token_without_scope_is_403(client: Client, make_token: MakeToken) -> None:
    """A valid token lacking the scope gets a 403 naming the scope, and its hint creates a
    token with that scope added to the ones this token has, not in place of them."""
    token = await make_token(scopes=("runs:read",))
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    assert response.status == 403
    message = (await response.json())["error"]["message"]
    assert "lacks the 'runs:write' scope" in message
    assert message.endswith(
        "handrail token create ticket-triage --scope runs:read --scope runs:write"
    )


async def test_another_workflows_run_is_404(client: Client, make_token: MakeToken) -> None:
    """A token of one workflow cannot see or write another workflow's run."""
    triage = await make_token("ticket-triage")
    invoices = await make_token("invoice-extraction")
    run = await (await client.post("/api/v1/runs", json={}, headers=bearer(triage))).json()
    read = await client.get(f"/api/v1/runs/{run['run_id']}", headers=bearer(invoices))
    write = await client.post(
        f"/api/v1/runs/{run['run_id']}/events",
        json={"events": [{"type": "note", "name": "x"}]},
        headers=bearer(invoices),
    )
    assert read.status == 404
    assert write.status == 404


async def test_only_a_hash_of_the_token_is_stored(
    client: Client, token: str, services: Services
) -> None:
    """The database holds the prefix and a SHA-256, never the secret."""
    secret = token.removeprefix("hr_").split("_", 1)[1]
    async with services.sessions() as db:
        rows = (await db.execute(select(Credential))).scalars().all()
    assert len(rows) == 1
    assert secret not in repr(vars(rows[0]))
    assert len(rows[0].secret_hash) == 64
