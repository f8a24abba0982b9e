"""A shadow case's decision, read by the client, is never permission to act."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from handrail_client import Decision, HandrailClient, HandrailSyncClient
from tenacity import wait_none

from bot.services import Services
from tests.conftest import TEST_WORKFLOWS
from tests.test_client_review import approve
from workflows.config.brief import HandrailConfig, parse_config

DRAFT = "call us on +44 20 7946 0958 about the billing tag"


@pytest.fixture
def config() -> HandrailConfig:
    """The test workflows with ticket-triage in shadow mode."""
    workflows = copy.deepcopy(TEST_WORKFLOWS)
    workflows["workflows"]["ticket-triage"]["mode"] = "shadow"
    return parse_config(workflows)


@pytest.fixture
async def handrail(client: TestClient[Any, Any], token: str) -> AsyncIterator[HandrailClient]:
    async with HandrailClient(str(client.make_url("")), token, wait=wait_none()) as api:
        yield api


async def shadow_handoff(handrail: HandrailClient) -> str:
    """Ask the gate in shadow mode; the handoff it opened for comparison."""
    run = await handrail.start_run()
    result = await handrail.gate(run.run_id, action="tag", draft=DRAFT, confidence=0.95)
    assert result.verdict == "shadow"
    assert result.handoff_id is not None
    return result.handoff_id


async def test_review_in_shadow_mode_is_not_approved(handrail: HandrailClient) -> None:
    """review() answers a shadow verdict at once, marked shadow and not approved."""
    async with handrail.run() as run:
        decision = await run.review(action="tag", draft=DRAFT, confidence=0.95)
    assert decision.status == "shadow"
    assert decision.shadow
    assert not decision.approved
    assert decision.text is None


async def test_an_approved_shadow_case_is_not_permission_to_act(
    handrail: HandrailClient, services: Services
) -> None:
    """A reviewer's Approve on a shadow case comes back shadow, not approved, with no text."""
    handoff_id = await shadow_handoff(handrail)
    await approve(services, handoff_id, outcome="approved")
    decision = await handrail.wait_for_decision(handoff_id, max_wait=5)
    assert decision.status == "approved"
    assert decision.shadow
    assert not decision.approved
    assert decision.text is None
    assert decision.shadow_text == DRAFT


async def test_an_edited_shadow_case_keeps_the_edit_for_comparison_only(
    handrail: HandrailClient, services: Services
) -> None:
    """An edit on a shadow case is given back, unredacted, as shadow_text and never as text."""
    handoff_id = await shadow_handoff(handrail)
    edit = "Call [REDACTED:phone] about billing."
    await approve(services, handoff_id, outcome="edited", final_text=edit)
    decision = await handrail.wait_for_decision(handoff_id, max_wait=5)
    assert not decision.approved
    assert decision.text is None
    assert decision.shadow_text == "Call +44 20 7946 0958 about billing."


async def test_the_sync_client_reads_a_shadow_approval_as_not_approved(
    client: TestClient[Any, Any], token: str, handrail: HandrailClient, services: Services
) -> None:
    """HandrailSyncClient.wait_for_decision on an approved shadow case is not approved either."""
    handoff_id = await shadow_handoff(handrail)
    await approve(services, handoff_id, outcome="approved")

    def work() -> Decision:
        with HandrailSyncClient(str(client.make_url("")), token, wait=wait_none()) as sync:
            return sync.wait_for_decision(handoff_id, max_wait=5, draft=DRAFT)

    decision = await asyncio.to_thread(work)
    assert decision.shadow
    assert not decision.approved
    assert decision.text is None
    assert decision.shadow_text == DRAFT


def test_a_decision_without_shadow_stays_approved() -> None:
    """A body from a real review (shadow false) is still read as approved, with its text."""
    body = {
        "handoff_id": "h1",
        "status": "approved",
        "shadow": False,
        "decision": {"outcome": "approved", "final_text": "hi"},
        "draft": "hi",
    }
    decision = Decision.from_json(body, draft="hi")
    assert decision.approved
    assert decision.text == "hi"
