"""``GET /api/v1/runs`` and ``GET /api/v1/handoffs``: filters, cursors, the token's workflow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from bot.services import Services
from tests.conftest import MakeToken, bearer
from tests.lifecycle_data import seed_run
from workflows.clock import ManualClock


async def _seed(services: Services, clock: ManualClock, count: int) -> list[str]:
    ids = [f"run-{n:02d}" for n in range(count)]
    for n, run_id in enumerate(ids):
        await seed_run(services, run_id, started_at=clock() + timedelta(minutes=n), steps=1)
    return ids


async def test_runs_come_page_by_page_until_the_cursor_runs_out(
    client: TestClient[Any, Any], token: str, services: Services, clock: ManualClock
) -> None:
    """Pages of 4 walk through 10 runs oldest first, each exactly once, then stop."""
    ids = await _seed(services, clock, 10)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/runs", params=query, headers=bearer(token))
        assert response.status == 200
        page = await response.json()
        seen += [run["run_id"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_runs_filter_by_status_and_time(
    client: TestClient[Any, Any], token: str, services: Services, clock: ManualClock
) -> None:
    """``status``, ``since`` and ``until`` narrow the list together."""
    await _seed(services, clock, 4)
    await seed_run(
        services, "failed-one", started_at=clock() + timedelta(minutes=2), status="failed"
    )
    params = {
        "status": "succeeded",
        "since": (clock() + timedelta(minutes=1)).isoformat(),
        "until": (clock() + timedelta(minutes=3)).isoformat(),
    }
    response = await client.get("/api/v1/runs", params=params, headers=bearer(token))
    assert [run["run_id"] for run in (await response.json())["runs"]] == ["run-01", "run-02"]


async def test_handoffs_filter_by_status_and_kind(
    client: TestClient[Any, Any], token: str, services: Services, clock: ManualClock
) -> None:
    """Handoffs list by status and kind, oldest first."""
    await seed_run(services, "a", started_at=clock(), handoff_status="pending")
    await seed_run(services, "b", started_at=clock() + timedelta(minutes=1))
    response = await client.get(
        "/api/v1/handoffs", params={"status": "pending", "kind": "approval"}, headers=bearer(token)
    )
    body = await response.json()
    assert [h["handoff_id"] for h in body["handoffs"]] == ["ho_a"]
    assert body["next_cursor"] is None


async def test_a_token_lists_only_its_own_workflow(
    client: TestClient[Any, Any], make_token: MakeToken, services: Services, clock: ManualClock
) -> None:
    """An invoice-extraction token sees none of ticket-triage's runs or handoffs."""
    await seed_run(services, "triage", started_at=clock())
    other = await make_token("invoice-extraction")
    for path, key in (("/api/v1/runs", "runs"), ("/api/v1/handoffs", "handoffs")):
        response = await client.get(path, headers=bearer(other))
        assert (await response.json())[key] == []


async def test_a_bad_cursor_is_a_422_at_cursor(client: TestClient[Any, Any], token: str) -> None:
    """A cursor the API never gave out is refused, naming the parameter."""
    response = await client.get(
        "/api/v1/runs", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=bearer(token)
    )
    assert response.status == 422
    body = await response.json()
    assert body["error"]["details"][0]["loc"] == "query.cursor"


async def test_limit_above_200_is_a_422_at_limit(client: TestClient[Any, Any], token: str) -> None:
    """Pages hold at most 200 items; asking for more says so."""
    response = await client.get("/api/v1/handoffs", params={"limit": "201"}, headers=bearer(token))
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["loc"] == "query.limit"
