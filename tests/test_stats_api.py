"""The review metrics and the prompt changelog over HTTP and through the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import ConflictError, HandrailClient, HandrailSyncClient
from tenacity import wait_none

from bot.services import Services
from tests.conftest import MakeToken, bearer
from workflows.clock import ManualClock
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]
DRAFT = "Hi Sam,\nyour order ships today.\nBest, Support"


@pytest.fixture
async def handrail(client: Client, token: str) -> AsyncIterator[HandrailClient]:
    async with HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api:
        yield api


async def reviewed_case(client: Client, token: str, services: Services, version: str) -> str:
    """A run on ``version`` whose send_reply a reviewer approves: its handoff ID."""
    response = await client.post(
        "/api/v1/runs", json={"prompt_version": version}, headers=bearer(token)
    )
    run_id = (await response.json())["run_id"]
    asked = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "send_reply", "draft": DRAFT, "confidence": 0.9},
        headers=bearer(token),
    )
    handoff_id = str((await asked.json())["handoff_id"])
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome="approved", reviewer="U0ALICE"),
            now=services.clock(),
        )
    return handoff_id


async def test_stats_answer_json_split_by_version(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """``GET …/stats?by=prompt_version`` splits the cases the API recorded by their version."""
    await reviewed_case(client, token, services, "v1")
    await reviewed_case(client, token, services, "v2")
    clock.advance(minutes=5)
    response = await client.get(
        "/api/v1/workflows/ticket-triage/stats?since=7d&by=prompt_version", headers=bearer(token)
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert [piece["key"] for piece in body["slices"]] == ["v1", "v2"]
    assert body["overall"]["outcomes"]["approved"] == 2
    assert body["overall"]["wrong_rate"] == {"value": None, "part": 0, "n": 2}
    assert body["prompt_versions"]["unexplained"] == ["v1", "v2"]


async def test_stats_of_another_workflow_are_not_found(client: Client, token: str) -> None:
    """A ticket-triage token reading invoice-extraction's stats gets 404, as for a run."""
    response = await client.get("/api/v1/workflows/invoice-extraction/stats", headers=bearer(token))
    assert response.status == 404
    assert (await response.json())["error"]["details"][0]["loc"] == "workflow"


async def test_a_bad_window_is_a_clear_422(client: Client, token: str) -> None:
    """``since=soon`` is refused, naming the query parameter and how to write a duration."""
    response = await client.get(
        "/api/v1/workflows/ticket-triage/stats?since=soon", headers=bearer(token)
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["details"][0]["loc"] == "query.since"
    assert "30s, 15m, 2h or 7d" in error["message"]


async def test_an_unknown_split_is_a_clear_422(client: Client, token: str) -> None:
    """``by=model`` is refused, listing the splits there are."""
    response = await client.get(
        "/api/v1/workflows/ticket-triage/stats?by=model", headers=bearer(token)
    )
    assert response.status == 422
    assert "action, prompt_version, reviewer" in (await response.json())["error"]["message"]


async def test_a_note_explains_a_version(
    handrail: HandrailClient, client: Client, token: str, services: Services
) -> None:
    """A note added through the client takes its version off the unexplained list."""
    await reviewed_case(client, token, services, "v1")
    await reviewed_case(client, token, services, "v2")
    note = await handrail.add_prompt_note("ticket-triage", "v2", "shorter greeting", author="ana")
    changelog = await handrail.prompt_changelog("ticket-triage")
    assert (note.version, note.author) == ("v2", "ana")
    assert changelog.unexplained == ["v1"]
    assert [n.reason for n in changelog.notes] == ["shorter greeting"]


async def test_the_same_note_twice_is_kept_once(handrail: HandrailClient) -> None:
    """Sending the same note again (a retry) answers with the first and stores one."""
    await handrail.add_prompt_note("ticket-triage", "v3", "fewer apologies", author="ana")
    await handrail.add_prompt_note("ticket-triage", "v3", "fewer apologies", author="ana")
    assert len((await handrail.prompt_changelog("ticket-triage")).notes) == 1


async def test_a_different_second_note_is_refused(handrail: HandrailClient) -> None:
    """A second, different note for one version is a conflict quoting the first."""
    await handrail.add_prompt_note("ticket-triage", "v3", "fewer apologies", author="ana")
    with pytest.raises(ConflictError, match="fewer apologies"):
        await handrail.add_prompt_note("ticket-triage", "v3", "something else")


async def test_a_note_without_an_author_names_the_token(
    client: Client, make_token: MakeToken
) -> None:
    """Left out, the author is the token that wrote the note (``api:<credential>``)."""
    token = await make_token()
    response = await client.post(
        "/api/v1/workflows/ticket-triage/prompt-notes",
        json={"version": "v4", "reason": "new tone"},
        headers=bearer(token),
    )
    assert response.status == 201
    assert (await response.json())["author"].startswith("api:")


async def test_a_blank_reason_is_refused(client: Client, token: str) -> None:
    """A reason of blanks is refused on its field and nothing is stored."""
    response = await client.post(
        "/api/v1/workflows/ticket-triage/prompt-notes",
        json={"version": "v4", "reason": "   "},
        headers=bearer(token),
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["loc"] == "reason"


async def test_the_sync_client_adds_and_reads_notes(client: Client, token: str) -> None:
    """HandrailSyncClient adds a note and reads the changelog from plain code."""

    def work() -> list[str]:
        url = str(client.make_url(""))
        with HandrailSyncClient(url, token, wait=wait_none()) as handrail:
            handrail.add_prompt_note("ticket-triage", "v5", "cites the order number")
            return [note.version for note in handrail.prompt_changelog("ticket-triage").notes]

    assert await asyncio.to_thread(work) == ["v5"]


async def test_a_window_too_long_for_a_date_is_a_clear_422(client: Client, token: str) -> None:
    """A window of more days than a date can hold is refused, not a server error."""
    response = await client.get(
        "/api/v1/workflows/ticket-triage/stats?since=99999999999d", headers=bearer(token)
    )
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["loc"] == "query.since"
