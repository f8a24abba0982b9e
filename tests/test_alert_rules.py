"""The threshold rules (latency, error rate, token spike) and token hygiene, through the API.

Steps are reported over HTTP as an automation would; ``alert_tick`` runs at the
ManualClock's time. These tests read the alert rows; what reaches Slack is covered in
``test_alert_lifecycle``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot import jobs
from bot.services import Services
from store.models import Alert, Credential, OutboxMessage
from store.repositories import alerts as alert_rows
from tests.conftest import MakeToken, bearer
from workflows.alerts.lifecycle import apply_findings
from workflows.alerts.tick import measure
from workflows.clock import ManualClock

Client = TestClient[Any, Any]


async def steps(client: Client, token: str, *events: dict[str, Any], version: str = "v1") -> str:
    response = await client.post(
        "/api/v1/runs", json={"prompt_version": version}, headers=bearer(token)
    )
    run_id = str((await response.json())["run_id"])
    response = await client.post(
        f"/api/v1/runs/{run_id}/events", json={"events": list(events)}, headers=bearer(token)
    )
    assert response.status == 202, await response.text()
    return run_id


def call(ms: float, *, failed: bool = False) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "tool", "name": "order_lookup", "duration_ms": ms}
    if failed:
        event.update(status="error", error="HTTP 502 from order_lookup")
    return event


def model(tokens: int, version: str) -> dict[str, Any]:
    return {"type": "model", "name": "draft", "tokens_in": tokens, "tokens_out": 0,
            "prompt_version": version}  # fmt: skip


async def alerts(services: Services) -> list[Alert]:
    async with services.readers() as db:
        return list((await db.execute(select(Alert).order_by(Alert.created_at))).scalars())


async def test_three_slow_calls_in_a_row_fire_latency(
    client: Client, token: str, services: Services
) -> None:
    """The last three calls all above 5 s raise a latency alert naming the slowest step."""
    await steps(client, token, call(6000), call(7500), call(5200))
    await jobs.alert_tick(services)
    [alert] = await alerts(services)
    assert alert.rule == "latency"
    assert alert.sample == "slowest: order_lookup took 7.5 s"


async def test_one_fast_call_breaks_the_run_of_slow_ones(
    client: Client, token: str, services: Services
) -> None:
    """Two slow calls and a fast one are not "three in a row"."""
    await steps(client, token, call(6000), call(7500), call(300))
    await jobs.alert_tick(services)
    assert await alerts(services) == []


async def test_latency_resolves_after_a_clear_window(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A fast call clears the condition; the alert resolves only once it stayed clear."""
    await steps(client, token, call(6000), call(7500), call(5200))
    await jobs.alert_tick(services)
    clock.advance(minutes=1)
    await steps(client, token, call(200))
    await jobs.alert_tick(services)
    [alert] = await alerts(services)
    assert (alert.status, alert.clear_since) == ("firing", clock())
    clock.advance(minutes=15)
    await jobs.alert_tick(services)
    [alert] = await alerts(services)
    assert alert.status == "resolved"


async def test_error_rate_needs_the_minimum_number_of_calls(
    client: Client, token: str, services: Services
) -> None:
    """Ten failures in forty calls is no alert: fewer than fifty calls were made."""
    await steps(client, token, *[call(100, failed=i < 10) for i in range(40)])
    await jobs.alert_tick(services)
    assert [a.rule for a in await alerts(services)] == ["repeated_error"]


async def test_error_rate_above_the_threshold_fires(
    client: Client, token: str, services: Services
) -> None:
    """Two failures in sixty calls (3.3% > 2%) raise an error-rate alert."""
    await steps(client, token, *[call(100, failed=i < 2) for i in range(60)])
    await jobs.alert_tick(services)
    [alert] = await alerts(services)
    assert alert.rule == "error_rate"
    assert alert.title == "3.3% of calls failed in the last 10 min (2 of 60)"


async def test_a_token_spike_against_the_same_prompt_version(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """v1 at 1,000 tokens per call for an hour, then 1,500: a spike on v1."""
    await steps(client, token, *[model(1000, "v1") for _ in range(20)])
    clock.advance(minutes=60)
    await steps(client, token, *[model(1500, "v1") for _ in range(20)])
    await jobs.alert_tick(services)
    [alert] = await alerts(services)
    assert alert.rule == "token_spike"
    assert alert.title == "Tokens per call up 50% on prompt v1"


async def test_a_new_prompt_version_starts_its_own_baseline(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """v2 using more tokens than v1 is not a spike: it has no baseline of its own yet."""
    await steps(client, token, *[model(1000, "v1") for _ in range(20)])
    clock.advance(minutes=60)
    await steps(client, token, *[model(1500, "v2") for _ in range(20)], version="v2")
    await jobs.alert_tick(services)
    assert await alerts(services) == []


async def test_a_revoked_token_in_use_raises_an_alert(
    client: Client, services: Services, make_token: MakeToken, clock: ManualClock
) -> None:
    """A request with a revoked token is refused and counted; the next tick raises an alert."""
    token = await make_token()
    async with services.sessions() as db, db.begin():
        credential = (await db.execute(select(Credential))).scalar_one()
        credential.revoked_at = clock()
    clock.advance(seconds=5)
    for _ in range(3):
        response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
        assert response.status == 401
        assert "revoked" in (await response.json())["error"]["message"]
    await jobs.alert_tick(services)
    [alert] = await alerts(services)
    assert alert.rule == "credential_misuse"
    assert alert.fingerprint == credential.id
    assert (alert.details or {})["attempts"] == 3
    assert credential.prefix in alert.title


async def test_credential_reminders_reach_admins_once_a_week(
    client: Client, services: Services, make_token: MakeToken, clock: ManualClock
) -> None:
    """A token expiring in ten days gets a DM to each admin; the daily job does not repeat it."""
    await make_token(expires_in=timedelta(days=10))
    assert await jobs.credential_reminders(services) == 1
    clock.advance(days=1)
    assert await jobs.credential_reminders(services) == 1
    async with services.readers() as db:
        rows = (await db.execute(select(OutboxMessage))).scalars().all()
    assert [(row.payload["channel"], row.payload["render"]) for row in rows] == [
        ("U0OWNER", "credential_reminder")
    ]


async def test_an_old_token_is_due_for_rotation(
    client: Client, services: Services, make_token: MakeToken, clock: ManualClock
) -> None:
    """A token older than the rotation period (90 days) is reminded even without expiry."""
    await make_token()
    assert await jobs.credential_reminders(services) == 0
    clock.advance(days=91)
    assert await jobs.credential_reminders(services) == 1


async def test_a_tick_racing_a_resolve_leaves_it_resolved(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """Counting on an alert resolved since the tick read it changes nothing and fails nothing."""
    await steps(client, token, *[call(100, failed=True) for _ in range(5)])
    await jobs.alert_tick(services)
    async with services.readers() as db:
        snapshot = await alert_rows.list_open_alerts(db)
    [alert] = snapshot
    async with services.sessions() as db, db.begin():
        assert await alert_rows.resolve(db, alert.id, now=clock(), by="U0ALICE")
    clock.advance(minutes=1)
    await steps(client, token, *[call(100, failed=True) for _ in range(2)])
    async with services.readers() as db:
        findings = await measure(db, config=services.config, now=clock())
    async with services.sessions() as db, db.begin():
        report = await apply_findings(
            db,
            workflow="ticket-triage",
            policy=services.config.workflows["ticket-triage"],
            findings=findings["ticket-triage"],
            open_alerts=snapshot,
            resolved_at={},
            now=clock(),
        )
    assert report.updated == []
    [same] = await alerts(services)
    assert (same.status, same.count, same.resolved_by) == ("resolved", 5, "U0ALICE")
