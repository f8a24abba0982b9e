"""The run ledger over HTTP: start, append in order, finish, read back."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from bot.services import Services
from tests.conftest import bearer
from workflows.clock import ManualClock
from workflows.pause.switch import pause_workflow

Client = TestClient[Any, Any]


async def start(client: Client, token: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/runs", json=body, headers=bearer(token))
    assert response.status in (200, 201), await response.text()
    return dict(await response.json())


async def test_start_run_generates_a_time_sortable_id(client: Client, token: str) -> None:
    """A run started without an ID gets a generated one that sorts by creation time."""
    first = await start(client, token)
    second = await start(client, token)
    assert first["run_id"].startswith("run_")
    assert first["run_id"] < second["run_id"]
    assert first["status"] == "running"


async def test_start_run_is_idempotent_on_client_run_id(client: Client, token: str) -> None:
    """Starting the same client run_id twice returns the same run, created once."""
    response = await client.post(
        "/api/v1/runs", json={"run_id": "ticket-4812"}, headers=bearer(token)
    )
    again = await client.post("/api/v1/runs", json={"run_id": "ticket-4812"}, headers=bearer(token))
    assert response.status == 201
    assert again.status == 200
    assert (await again.json())["run_id"] == "ticket-4812"


async def test_events_are_stored_in_the_order_received(client: Client, token: str) -> None:
    """Steps of several batches read back in the order the server received them."""
    run_id = (await start(client, token))["run_id"]
    for batch in (["prompt", "model"], ["tool", "action"]):
        events = [{"type": kind, "name": f"{kind}-step"} for kind in batch]
        response = await client.post(
            f"/api/v1/runs/{run_id}/events", json={"events": events}, headers=bearer(token)
        )
        assert response.status == 202
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    assert [e["type"] for e in story["events"]] == ["prompt", "model", "tool", "action"]
    assert [e["seq"] for e in story["events"]] == [1, 2, 3, 4]


async def test_concurrent_batches_never_share_a_position(client: Client, token: str) -> None:
    """Batches sent at once to one run get distinct, gap-free positions."""
    run_id = (await start(client, token))["run_id"]

    async def send(batch: int) -> None:
        events = [{"type": "note", "name": f"b{batch}-{i}"} for i in range(10)]
        response = await client.post(
            f"/api/v1/runs/{run_id}/events", json={"events": events}, headers=bearer(token)
        )
        assert response.status == 202, await response.text()

    await asyncio.gather(*(send(batch) for batch in range(8)))
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    assert sorted(e["seq"] for e in story["events"]) == list(range(1, 81))
    for batch in range(8):
        names = [e["name"] for e in story["events"] if e["name"].startswith(f"b{batch}-")]
        assert names == [f"b{batch}-{i}" for i in range(10)]


async def test_an_event_id_seen_before_is_not_stored_twice(client: Client, token: str) -> None:
    """A retried batch with the same event IDs stores nothing new."""
    run_id = (await start(client, token))["run_id"]
    body = {
        "events": [
            {"id": "e1", "type": "prompt", "name": "p"},
            {"id": "e2", "type": "model", "name": "m"},
        ]
    }
    first = await client.post(f"/api/v1/runs/{run_id}/events", json=body, headers=bearer(token))
    second = await client.post(f"/api/v1/runs/{run_id}/events", json=body, headers=bearer(token))
    assert await first.json() == {"accepted": 2, "duplicates": 0}
    assert await second.json() == {"accepted": 0, "duplicates": 2}
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    assert [e["id"] for e in story["events"]] == ["e1", "e2"]


async def test_secrets_are_redacted_before_storage(client: Client, token: str) -> None:
    """A secret in a tool input is stored as a marker with its count, never its value."""
    run_id = (await start(client, token))["run_id"]
    secret = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    body = {
        "events": [
            {
                "type": "tool",
                "name": "crm_lookup",
                "input": {
                    "headers": {"Authorization": f"Bearer {secret}"},
                    "note": f"token {secret}",
                },
                "output": {"email": "jane.doe@example.com"},
            }
        ]
    }
    await client.post(f"/api/v1/runs/{run_id}/events", json=body, headers=bearer(token))
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    raw = await response.text()
    event = (await response.json())["events"][0]
    assert secret not in raw
    assert "jane.doe@example.com" not in raw
    assert "[REDACTED:" in event["input"]["note"]
    assert sum(event["redactions"].values()) >= 3


async def test_names_models_and_prompt_versions_are_redacted_too(
    client: Client, token: str
) -> None:
    """A secret pasted into an event's name, model or prompt version is not stored either."""
    github = "gh" + "p_FAKEfake0123456789abcdefABCDEF012345"
    openai = "sk" + "-proj-Fake_0123456789-abcdefGHIJKLmnopQRSTuvwx"
    run_id = (
        await start(client, token, model=openai, prompt_version="triage v3 password=hunter22")
    )["run_id"]
    event = {
        "id": "curl-1",
        "type": "tool",
        "name": f"curl -H 'Authorization: Bearer {github}' https://api.github.com",
        "status": "ok",
        "model": openai,
        "prompt_version": "v3 token=Fake0Token9Value",
    }
    await client.post(
        f"/api/v1/runs/{run_id}/events", json={"events": [event]}, headers=bearer(token)
    )
    response = await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))
    raw = await response.text()
    story = await response.json()
    for secret in (github, openai, "hunter22", "Fake0Token9Value"):
        assert secret not in raw
    stored = story["events"][0]
    assert stored["name"].startswith("curl -H 'Authorization: Bearer [REDACTED:")
    assert stored["model"] == "[REDACTED:openai_key]"
    assert stored["prompt_version"] == "v3 token=[REDACTED:secret_field]"
    assert (stored["id"], stored["status"]) == ("curl-1", "ok")
    assert stored["redactions"] == {"github_token": 1, "openai_key": 1, "secret_field": 1}
    assert story["model"] == "[REDACTED:openai_key]"
    assert story["prompt_version"] == "triage v3 password=[REDACTED:secret_field]"
    assert story["redactions"] == {"github_token": 1, "openai_key": 2, "secret_field": 2}


async def test_a_name_lengthened_by_redaction_still_fits_its_column(
    client: Client, token: str
) -> None:
    """A placeholder longer than the secret it replaced cannot push a name past 200 chars."""
    run_id = (await start(client, token))["run_id"]
    name = "x" * 180 + " token=ab12cd34"
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "tool", "name": name, "model": name}]},
        headers=bearer(token),
    )
    assert response.status == 202, await response.text()
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    stored = story["events"][0]
    assert len(stored["name"]) == 200
    assert stored["name"].startswith("x" * 180 + " token=[REDACTED:")
    assert stored["name"].endswith("…")
    assert "ab12cd34" not in stored["name"] + stored["model"]


async def test_finish_run_records_status_and_full_error(client: Client, token: str) -> None:
    """Finishing as failed keeps the whole error text and the end time."""
    run_id = (await start(client, token))["run_id"]
    error = (
        "Traceback (most recent call last):\n  ...\n"
        "TimeoutError: timeout after 30 s from order_lookup"
    )
    response = await client.post(
        f"/api/v1/runs/{run_id}/finish",
        json={"status": "failed", "error": error},
        headers=bearer(token),
    )
    assert response.status == 200
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    assert story["status"] == "failed"
    assert story["error"] == error
    assert story["ended_at"] is not None


async def test_a_failed_run_ends_with_an_error_step(client: Client, token: str) -> None:
    """Finishing as failed adds the error as the last step, so step-based alerts see it."""
    run_id = (await start(client, token))["run_id"]
    await client.post(
        f"/api/v1/runs/{run_id}/finish",
        json={"status": "failed", "error": "timeout after 30 s from order_lookup"},
        headers=bearer(token),
    )
    story = await (await client.get(f"/api/v1/runs/{run_id}", headers=bearer(token))).json()
    last = story["events"][-1]
    assert (last["type"], last["status"]) == ("error", "error")
    assert last["error"] == "timeout after 30 s from order_lookup"


async def test_finishing_twice_differently_is_a_conflict(client: Client, token: str) -> None:
    """A finished run cannot be finished again with another status."""
    run_id = (await start(client, token))["run_id"]
    url = f"/api/v1/runs/{run_id}/finish"
    await client.post(url, json={"status": "succeeded"}, headers=bearer(token))
    same = await client.post(url, json={"status": "succeeded"}, headers=bearer(token))
    other = await client.post(url, json={"status": "failed"}, headers=bearer(token))
    assert same.status == 200
    assert other.status == 409
    assert (await other.json())["error"]["code"] == "conflict"


async def test_events_after_finish_are_refused(client: Client, token: str) -> None:
    """New steps for a finished run get a 409 that says to start a new run."""
    run_id = (await start(client, token))["run_id"]
    await client.post(
        f"/api/v1/runs/{run_id}/finish", json={"status": "succeeded"}, headers=bearer(token)
    )
    response = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "note", "name": "late"}]},
        headers=bearer(token),
    )
    assert response.status == 409
    assert "start a new run" in (await response.json())["error"]["message"]


async def test_workflow_summary_shows_policy(client: Client, token: str) -> None:
    """The workflow endpoint summarises its policy and pause state."""
    response = await client.get("/api/v1/workflows/ticket-triage", headers=bearer(token))
    body = await response.json()
    assert body["mode"] == "review"
    assert body["require_approval"] == ["send_reply", "refund"]
    assert body["paused"] is False


async def test_metrics_count_runs_and_events(client: Client, token: str) -> None:
    """The Prometheus text counts runs, events and errors by workflow."""
    run_id = (await start(client, token))["run_id"]
    await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "error", "name": "order_lookup", "error": "timeout"}]},
        headers=bearer(token),
    )
    text = await (await client.get("/metrics")).text()
    assert 'handrail_runs_started_total{workflow="ticket-triage"} 1.0' in text
    assert 'handrail_events_total{workflow="ticket-triage"} 1.0' in text
    assert 'handrail_errors_total{workflow="ticket-triage"} 1.0' in text
    assert "handrail_http_request_duration_seconds_bucket" in text


async def test_request_latency_is_recorded_for_error_answers(client: Client, token: str) -> None:
    """Requests answered with an error are timed under their real status, like successes."""
    run_id = (await start(client, token))["run_id"]
    answers = [
        await client.get(f"/api/v1/runs/{run_id}"),
        await client.get("/api/v1/runs/run_missing", headers=bearer(token)),
        await client.post(
            f"/api/v1/runs/{run_id}/events", json={"events": "no"}, headers=bearer(token)
        ),
        await client.post(
            f"/api/v1/runs/{run_id}/events", data=b"x" * 300_000, headers=bearer(token)
        ),
    ]
    assert [answer.status for answer in answers] == [401, 404, 422, 413]
    text = await (await client.get("/metrics")).text()
    for method, route, status in [
        ("GET", "/api/v1/runs/{run_id}", 401),
        ("GET", "/api/v1/runs/{run_id}", 404),
        ("POST", "/api/v1/runs/{run_id}/events", 422),
        ("POST", "/api/v1/runs/{run_id}/events", 413),
    ]:
        series = (
            "handrail_http_request_duration_seconds_count"
            f'{{method="{method}",route="{route}",status="{status}"}} 1.0'
        )
        assert series in text


async def test_healthz_answers(client: Client) -> None:
    """The liveness probe answers without a token."""
    response = await client.get("/healthz")
    assert response.status == 200


async def test_workflow_summary_shows_a_pause_on_all(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A pause on all workflows shows as paused in each workflow's summary."""
    async with services.sessions() as db, db.begin():
        await pause_workflow(
            db,
            config=services.config,
            workflow="all",
            actor="U0OWNER",
            reason="incident",
            now=clock(),
        )
    body = await (await client.get("/api/v1/workflows/ticket-triage", headers=bearer(token))).json()
    assert (body["paused"], body["paused_by"], body["paused_reason"]) == (
        True,
        "U0OWNER",
        "incident",
    )
