"""A store that is busy, not broken: requests are told to retry, and nothing is logged as an
error."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from bot.app import build_app
from bot.services import Services
from bot.settings import Settings
from store.busy import is_store_busy
from tests.conftest import MakeToken, bearer, open_services
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig

Client = TestClient[Any, Any]


@pytest.fixture
async def one_connection(
    settings: Settings, config: HandrailConfig, clock: ManualClock
) -> AsyncIterator[Services]:
    """Services whose pool holds one connection and gives up on a wait after 0.2 s."""
    async with open_services(
        settings, config, clock, pool_size=1, max_overflow=0, pool_timeout=0.2
    ) as opened:
        yield opened


@pytest.fixture
async def busy_client(settings: Settings, one_connection: Services) -> AsyncIterator[Client]:
    app = build_app(settings, services=one_connection, migrate=False)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_a_request_that_finds_no_connection_free_is_told_to_retry(
    busy_client: Client,
    one_connection: Services,
    make_token: MakeToken,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With every pooled connection taken past the pool's timeout, ``POST /runs`` answers 503
    with ``Retry-After`` and a JSON error, logs no ERROR, and succeeds once one is free."""
    token = await make_token()
    async with one_connection.engine.connect() as held:
        await held.execute(text("SELECT 1"))
        response = await busy_client.post(
            "/api/v1/runs", json={"run_id": "busy-1"}, headers=bearer(token)
        )
        body = await response.json()
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert body["error"]["code"] == "store_busy"
    assert "retry after 1 s" in body["error"]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    again = await busy_client.post("/api/v1/runs", json={"run_id": "busy-1"}, headers=bearer(token))
    assert again.status == 201, await again.text()


async def test_a_failed_statement_is_not_mistaken_for_a_busy_store(services: Services) -> None:
    """A statement the database refuses (here, a syntax error) is a real error, not "busy"."""
    async with services.engine.connect() as connection:
        with pytest.raises(sa_exc.DBAPIError) as refused:
            await connection.execute(text("SELEC 1"))
    assert not is_store_busy(refused.value)
