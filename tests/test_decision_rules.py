"""Which outcomes a handoff accepts: exactly what its message's buttons offer."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from tests.conftest import bearer
from workflows.errors import InvalidInput
from workflows.ledger.views import EDIT_BOX_MAX
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]


async def open_handoff(client: Client, token: str, **fields: Any) -> str:
    """A handoff opened by the automation through the API, as it would."""
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await response.json())["run_id"]
    response = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"summary": "look at this", **fields},
        headers=bearer(token),
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["handoff_id"])


async def decide(services: Services, handoff_id: str, outcome: str, **fields: Any) -> None:
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome=outcome, reviewer="U0ALICE", **fields),
            now=services.clock(),
        )


@pytest.mark.parametrize(
    ("fields", "outcome", "extra"),
    [
        ({"kind": "tool_failure", "error": "timeout"}, "rejected", {"reason": "no"}),
        ({"kind": "tool_failure", "error": "timeout"}, "approved", {}),
        ({"kind": "draft", "draft": "Hi"}, "retry_requested", {}),
        ({"kind": "draft", "draft": "Hi"}, "taken_over", {}),
        ({"kind": "other"}, "edited", {"final_text": "Something new"}),
        ({"kind": "draft", "draft": "x" * (EDIT_BOX_MAX + 1)}, "edited", {"final_text": "x"}),
        ({"kind": "other", "context": {"parked_id": "prk_forged"}}, "taken_over", {}),
    ],
)
async def test_an_outcome_with_no_button_is_refused(
    client: Client,
    token: str,
    services: Services,
    fields: dict[str, Any],
    outcome: str,
    extra: dict[str, Any],
) -> None:
    """An outcome the handoff's message does not offer raises and records nothing."""
    handoff_id = await open_handoff(client, token, **fields)
    with pytest.raises(InvalidInput, match="nothing was recorded") as raised:
        await decide(services, handoff_id, outcome, **extra)
    assert raised.value.details[0]["loc"] == "outcome"
    response = await client.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(token))
    assert (await response.json())["status"] == "pending"


@pytest.mark.parametrize(
    ("fields", "outcome", "extra"),
    [
        ({"kind": "tool_failure", "error": "timeout"}, "taken_over", {}),
        ({"kind": "tool_failure", "error": "timeout"}, "retry_requested", {}),
        ({"kind": "draft", "draft": "Hi"}, "approved", {}),
        ({"kind": "draft", "draft": "Hi"}, "edited", {"final_text": "Hello"}),
        ({"kind": "other"}, "rejected", {"reason": "wrong"}),
    ],
)
async def test_an_offered_outcome_is_recorded(
    client: Client,
    token: str,
    services: Services,
    fields: dict[str, Any],
    outcome: str,
    extra: dict[str, Any],
) -> None:
    """Each outcome a button offers for the handoff's kind is recorded."""
    handoff_id = await open_handoff(client, token, **fields)
    await decide(services, handoff_id, outcome, **extra)
    response = await client.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(token))
    assert (await response.json())["status"] == outcome
