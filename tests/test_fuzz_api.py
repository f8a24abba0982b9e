"""Fuzzed bodies, paths and queries on every API route, on both stores: never a 5xx, never
an ERROR line, and a refused request writes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services import Services
from tests.conftest import MakeToken, bearer
from tests.fuzz_checks import Watch
from tests.fuzz_strategies import BODIES, FUZZ, PATH_PARAMETER, QUERY_VALUE, encoded

Client = TestClient[Any, Any]

#: Each body's route; ``{run}`` is a fresh run of the token's workflow.
BODY_ROUTES = {
    "runs": "/api/v1/runs",
    "events": "/api/v1/runs/{run}/events",
    "finish": "/api/v1/runs/{run}/finish",
    "gate": "/api/v1/runs/{run}/gate",
    "handoffs": "/api/v1/runs/{run}/handoffs",
    "park": "/api/v1/runs/{run}/park",
    "claim": "/api/v1/parked/claim",
    "pause": "/api/v1/workflows/ticket-triage/pause",
    "resume": "/api/v1/workflows/ticket-triage/resume",
}
ADMIN_ROUTES = frozenset({"pause", "resume"})
#: Every route with a path parameter or a query, ``{}`` where the fuzzed value goes.
PATH_ROUTES = [
    ("GET", "/api/v1/runs/{}"),
    ("GET", "/api/v1/handoffs/{}"),
    ("GET", "/api/v1/parked/{}"),
    ("GET", "/api/v1/workflows/{}"),
    ("POST", "/api/v1/runs/{}/events"),
    ("POST", "/api/v1/runs/{}/finish"),
    ("POST", "/api/v1/runs/{}/gate"),
    ("POST", "/api/v1/runs/{}/handoffs"),
    ("POST", "/api/v1/runs/{}/park"),
    ("POST", "/api/v1/workflows/{}/pause"),
    ("POST", "/api/v1/workflows/{}/resume"),
]
QUERY_ROUTES = ["/api/v1/parked?status={}", "/api/v1/handoffs/hof_none?wait={}"]


@pytest.fixture
async def admin(client: Client, make_token: MakeToken) -> str:
    return await make_token(scopes=("admin",))


async def new_run(client: Client, token: str) -> str:
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    return str((await response.json())["run_id"])


def test_every_body_route_is_fuzzed() -> None:
    """The fuzzed routes are every POST route the app serves with a body."""
    assert set(BODY_ROUTES) == set(BODIES)


@settings(FUZZ, max_examples=FUZZ.max_examples * len(BODY_ROUTES))
@given(data=st.data(), route=st.sampled_from(sorted(BODY_ROUTES)))
async def test_no_body_makes_a_route_fail_or_write_half(
    client: Client,
    token: str,
    admin: str,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    route: str,
) -> None:
    """Whatever body a route gets, it answers below 500, logs no error, and a refusal
    writes nothing."""
    template = BODY_ROUTES[route]
    path = template.format(run=await new_run(client, token)) if "{run}" in template else template
    raw = data.draw(BODIES[route].flatmap(encoded), label="body")
    watch = Watch(services, caplog)
    await watch.before()
    response = await client.post(
        path,
        data=raw,
        headers={
            **bearer(admin if route in ADMIN_ROUTES else token),
            "Content-Type": "application/json",
        },
    )
    await watch.after(response.status, f"POST {path} {raw!r}")
    assert response.content_type == "application/json"


@FUZZ
@given(route=st.sampled_from(PATH_ROUTES), value=PATH_PARAMETER, quoted=st.booleans())
async def test_no_path_parameter_makes_a_route_fail(
    client: Client,
    token: str,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    route: tuple[str, str],
    value: str,
    quoted: bool,
) -> None:
    """Whatever a path parameter holds, the route answers below 500 with JSON."""
    method, template = route
    part = quote(value.encode("utf-8", errors="surrogatepass"), safe="") if quoted else value
    path = template.format(part)
    watch = Watch(services, caplog)
    await watch.before()
    response = await client.request(method, path, json={}, headers=bearer(token))
    await watch.after(response.status, f"{method} {path}")
    assert response.content_type == "application/json"


@FUZZ
@given(template=st.sampled_from(QUERY_ROUTES), value=QUERY_VALUE)
async def test_no_query_makes_a_route_fail(
    client: Client,
    token: str,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    template: str,
    value: str,
) -> None:
    """Whatever a query parameter holds, the route answers below 500 with JSON."""
    path = template.format(quote(value.encode("utf-8", errors="surrogatepass"), safe=""))
    watch = Watch(services, caplog)
    await watch.before()
    response = await client.get(path, headers=bearer(token))
    await watch.after(response.status, f"GET {path}")
    assert response.content_type == "application/json"
