"""What a handoff message tells a reviewer: every reason, shadow cases, long drafts."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handlers.ids import ActionId, BlockId, CallbackId, InputId
from sandbox.testing import web_client
from tests.conftest import TEST_WORKFLOWS, Database, bearer
from tests.slack_harness import REVIEW_CHANNEL, Slack, running_slack
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config


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


LONG_DRAFT = "".join(
    f"Paragraph {n}: we looked into your order & found this.\n" for n in range(150)
)


async def test_a_long_draft_is_posted_whole_in_the_thread(slack: Slack) -> None:
    """A draft over 3,000 characters follows its message in the thread, in order, whole."""
    _, handoff_id = await slack.open_review(draft=LONG_DRAFT)
    ts = await slack.post_message(handoff_id)
    replies = [m for m in slack.emulator.messages(REVIEW_CHANNEL) if m.thread_ts == ts]
    assert [r.text.split(" —")[0] for r in replies] == [
        f"Draft, part {n} of {len(replies)}" for n in range(1, len(replies) + 1)
    ]
    code = [
        b["text"]["text"].removeprefix("```\n").removesuffix("\n```")
        for reply in replies
        for b in reply.blocks
        if b["type"] == "section"
    ]
    assert "".join(code).replace("&amp;", "&") == LONG_DRAFT
    message = slack.posted(handoff_id)
    assert "the whole draft is in this message's thread" in str(message.blocks)
    assert ActionId.HANDOFF_EDIT not in str(message.blocks)


async def test_a_stale_edit_of_a_long_draft_opens_no_box(slack: Slack) -> None:
    """An Edit click left on an older message opens a modal that explains and saves nothing."""
    _, handoff_id = await slack.open_review(draft=LONG_DRAFT)
    ts = await slack.post_message(handoff_id)
    await slack.driver.click(
        action_id=ActionId.HANDOFF_EDIT,
        user="U0ALICE",
        channel=REVIEW_CHANNEL,
        message_ts=ts,
        value=handoff_id,
        block_id="stale",
    )
    modal = await slack.opened_view("U0ALICE")
    assert [b["type"] for b in modal.view["blocks"]] == ["context", "section"]
    assert modal.view["submit"] is None
    assert "too long to edit in Slack" in modal.view["blocks"][1]["text"]["text"]


async def open_cut_edit_modal(slack: Slack, handoff_id: str) -> str:
    """An Edit modal as one opened before long drafts lost their box: the first 3,000."""
    box = {
        "type": "input",
        "block_id": BlockId.EDIT_TEXT,
        "label": {"type": "plain_text", "text": "Draft"},
        "element": {
            "type": "plain_text_input",
            "action_id": InputId.EDIT_TEXT,
            "multiline": True,
            "initial_value": LONG_DRAFT[:3000],
            "max_length": 3000,
        },
    }
    opened = await web_client(slack.emulator).views_open(
        trigger_id=slack.emulator.issue_trigger("U0ALICE"),
        view={
            "type": "modal",
            "callback_id": CallbackId.HANDOFF_EDIT_SUBMIT,
            "private_metadata": handoff_id,
            "title": {"type": "plain_text", "text": "Edit draft"},
            "submit": {"type": "plain_text", "text": "Save and approve"},
            "blocks": [box],
        },
    )
    return str(opened["view"]["id"])


async def test_saving_a_cut_draft_is_refused_not_recorded(slack: Slack) -> None:
    """A box holding only the first 3,000 characters, saved unchanged, approves nothing."""
    _, handoff_id = await slack.open_review(draft=LONG_DRAFT)
    view_id = await open_cut_edit_modal(slack, handoff_id)
    response = await slack.driver.submit_view(
        user="U0ALICE",
        view_id=view_id,
        state_values={BlockId.EDIT_TEXT: {InputId.EDIT_TEXT: LONG_DRAFT[:3000]}},
    )
    error = response.json()["errors"][BlockId.EDIT_TEXT]
    assert error.startswith(f"This draft has {len(LONG_DRAFT):,} characters")
    assert await slack.decision(handoff_id) is None


async def test_approving_a_long_draft_approves_all_of_it(slack: Slack) -> None:
    """Approve on a long draft hands the automation the whole draft."""
    _, handoff_id = await slack.open_review(draft=LONG_DRAFT)
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id)
    decision = await slack.decided(handoff_id)
    assert (decision.outcome, decision.final_text) == ("approved", LONG_DRAFT)
