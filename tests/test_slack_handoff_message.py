"""What a handoff message tells a reviewer: every reason, shadow cases, long drafts."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handlers.ids import ActionId
from tests.conftest import TEST_WORKFLOWS, Database, bearer
from tests.slack_harness import Slack, running_slack
from workflows.clock import ManualClock
from workflows.config import HandrailConfig, parse_config


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


@pytest.fixture
async def shadow_slack(
    database: Database, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Slack]:
    """The same Slack loop with ticket-triage in shadow mode."""
    workflows = copy.deepcopy(TEST_WORKFLOWS)
    workflows["workflows"]["ticket-triage"]["mode"] = "shadow"
    async with running_slack(
        database=database, tmp_path=tmp_path, clock=clock, config=parse_config(workflows)
    ) as running:
        yield running


async def ask_gate(slack: Slack, **question: Any) -> dict[str, Any]:
    run_id = await slack.start_run()
    response = await slack.api.post(
        f"/api/v1/runs/{run_id}/gate", json=question, headers=bearer(slack.token)
    )
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return {"run_id": run_id, **answer}


def why_it_is_here(blocks: list[dict[str, Any]]) -> list[str]:
    """The bullet lines of the message's "Why it is here" section."""
    [text] = [
        b["text"]["text"]
        for b in blocks
        if b["type"] == "section" and b["text"]["text"].startswith("*Why it is here*")
    ]
    return text.splitlines()[1:]


async def test_the_message_lists_every_reason_the_gate_gave(slack: Slack) -> None:
    """A draft with a stop topic, an action needing approval and no confidence shows all three."""
    answer = await ask_gate(slack, action="send_reply", draft="We will refund you.")
    assert answer["reason"] == (
        "stop topic \"refund\"; action 'send_reply' requires approval; confidence missing"
    )
    await slack.deliver()
    assert why_it_is_here(slack.posted(answer["handoff_id"]).blocks) == [
        '• stop topic "refund"',
        "• action 'send_reply' requires approval",
        "• confidence missing",
    ]


async def test_a_shadow_case_says_the_automation_will_not_act(shadow_slack: Slack) -> None:
    """In shadow mode the message is labelled a comparison, not a review, and keeps buttons."""
    answer = await ask_gate(shadow_slack, action="tag", draft="Tagged billing.", confidence=0.95)
    assert answer["verdict"] == "shadow"
    await shadow_slack.deliver()
    message = shadow_slack.posted(answer["handoff_id"])
    assert message.blocks[0]["text"]["text"].startswith("Shadow comparison · ")
    assert "the automation will not act on your answer" in message.blocks[1]["text"]["text"]
    assert "review mode" not in str(message.blocks)
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        ActionId.HANDOFF_APPROVE,
        ActionId.HANDOFF_EDIT,
        ActionId.HANDOFF_REJECT,
    ]


async def test_a_shadow_approval_is_marked_shadow_wherever_it_is_read(
    shadow_slack: Slack,
) -> None:
    """After Approve on a shadow case, the poll answer and the run story carry shadow: true."""
    answer = await ask_gate(shadow_slack, action="tag", draft="Tagged billing.", confidence=0.95)
    handoff_id = answer["handoff_id"]
    await shadow_slack.click(ActionId.HANDOFF_APPROVE, handoff_id)
    await shadow_slack.decided(handoff_id)
    poll = await shadow_slack.api.get(
        f"/api/v1/handoffs/{handoff_id}", headers=bearer(shadow_slack.token)
    )
    body = await poll.json()
    assert (body["status"], body["shadow"]) == ("approved", True)
    story = await shadow_slack.get_run(answer["run_id"])
    assert story["handoffs"][0]["shadow"] is True
    [decision_step] = [e for e in story["events"] if e["type"] == "decision"]
    assert decision_step["output"]["shadow"] is True


async def test_a_review_case_is_not_shadow(slack: Slack) -> None:
    """An ordinary review reads shadow: false, so a consumer can rely on the field."""
    _, handoff_id = await slack.open_review()
    poll = await slack.api.get(f"/api/v1/handoffs/{handoff_id}", headers=bearer(slack.token))
    assert (await poll.json())["shadow"] is False
