"""``/trace`` in Slack: a run's whole story, privately, to the people on its workflow only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from handlers.ids import ActionId
from sandbox.blockkit_limits import check_blocks
from tests.command_harness import answer_to, command, running_commands, text_of
from tests.conftest import Database, bearer
from tests.slack_harness import REVIEW_CHANNEL, Slack
from workflows import credentials
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig


@pytest.fixture
async def slack(
    database: Database, tmp_path: Path, clock: ManualClock, config: HandrailConfig
) -> AsyncIterator[Slack]:
    async with running_commands(
        database=database, tmp_path=tmp_path, clock=clock, config=config
    ) as running:
        yield running


async def log_steps(slack: Slack, run_id: str, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 500):
        response = await slack.api.post(
            f"/api/v1/runs/{run_id}/events",
            json={"events": events[start : start + 500]},
            headers=bearer(slack.token),
        )
        assert response.status == 202, await response.text()


async def told_story(slack: Slack) -> tuple[str, str]:
    """A run with a prompt, a model call, a failed tool, a gate and an approval."""
    response = await slack.api.post(
        "/api/v1/runs",
        json={"input_source": "ticket 4812", "prompt_version": "triage-v3", "model": "gpt-4o"},
        headers=bearer(slack.token),
    )
    run_id = str((await response.json())["run_id"])
    await log_steps(
        slack,
        run_id,
        [
            {"type": "prompt", "name": "triage", "input": "Classify the ticket"},
            {"type": "model", "name": "classify", "model": "gpt-4o", "output": "billing"},
            {
                "type": "tool",
                "name": "order_lookup",
                "status": "error",
                "duration_ms": 30000,
                "error": "timeout after 30 s from order_lookup",
            },
        ],
    )
    gate = await slack.api.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "send_reply", "draft": "Hi Sam", "confidence": 0.95},
        headers=bearer(slack.token),
    )
    handoff_id = str((await gate.json())["handoff_id"])
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB")
    await slack.decided(handoff_id)
    return run_id, handoff_id


async def test_a_reviewer_reads_a_runs_story(slack: Slack) -> None:
    """A reviewer's /trace shows the header, the steps in order, the gate and the decision."""
    run_id, handoff_id = await told_story(slack)
    answer = await command(slack, "/trace", run_id, user="U0ALICE")
    assert answer["response_type"] == "ephemeral"
    story = text_of(answer)
    for fact in ("ticket-triage", "triage-v3", "gpt-4o", "ticket 4812", handoff_id):
        assert fact in story
    order = ["`triage`", "`classify`", "`order_lookup`", "`send_reply` → *review*"]
    positions = [story.index(step) for step in order]
    assert positions == sorted(positions)
    assert "timeout after 30 s from order_lookup" in story
    assert "*approved* by <@U0BOB>" in story


async def test_a_non_member_is_refused(slack: Slack) -> None:
    """Someone who is not on the run's workflow is refused and sees nothing of the run."""
    run_id, _ = await told_story(slack)
    answer = await command(slack, "/trace", run_id, user="U0STRANGER")
    assert text_of(answer).startswith("Permission denied: <@U0STRANGER>")
    assert "order_lookup" not in text_of(answer)


async def test_another_workflows_run_is_refused(slack: Slack) -> None:
    """A reviewer of one workflow cannot read the runs of another."""
    async with slack.services.sessions() as db, db.begin():
        token, _ = await credentials.create_token(
            db,
            workflow="invoice-extraction",
            expires_in=None,
            label="test",
            now=slack.services.clock(),
        )
    response = await slack.api.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await response.json())["run_id"]
    answer = await command(slack, "/trace", run_id, user="U0BOB")
    assert "is not a reviewer or admin or oncall of invoice-extraction" in text_of(answer)


async def test_an_unknown_id_suggests_the_nearest_and_latest_runs(slack: Slack) -> None:
    """A mistyped ID is answered with the closest run IDs and the latest runs, with buttons."""
    run_id = await slack.start_run()
    typo = run_id[:-1] + ("A" if run_id[-1] != "A" else "B")
    answer = await command(slack, "/trace", typo, user="U0ALICE")
    body = text_of(answer)
    assert f"No run `{typo}`" in body
    assert "Did you mean" in body
    assert "Latest runs you can trace" in body
    buttons = [
        block["accessory"]["value"]
        for block in answer["blocks"]
        if block.get("accessory", {}).get("action_id") == ActionId.TRACE_OPEN
    ]
    assert buttons[0] == run_id


async def test_no_id_gets_a_short_how_to(slack: Slack) -> None:
    """/trace alone explains how to use it."""
    answer = await command(slack, "/trace", "", user="U0ALICE")
    assert answer["blocks"][0]["text"]["text"].startswith(
        "Which run? Give its ID.\n*Usage:* `/trace RUN_ID`"
    )


async def test_a_malformed_id_gets_a_short_how_to(slack: Slack) -> None:
    """Something that cannot be a run ID is named, escaped, with the how-to."""
    answer = await command(slack, "/trace", "<!channel> please", user="U0ALICE")
    said = answer["blocks"][0]["text"]["text"]
    assert said.startswith("`&lt;!channel&gt; please` is not a run ID")


async def test_a_long_run_offers_show_more_and_pages_through(slack: Slack) -> None:
    """A 200-step run gets a valid message with Show more, and the click shows the middle."""
    run_id = await slack.start_run()
    steps = [
        {"type": "tool", "name": f"step_{n}", "error": f"failure {n}\n" + "detail " * 120}
        for n in range(1, 201)
    ]
    await log_steps(slack, run_id, steps)
    sent = await slack.driver.command("/trace", run_id, user="U0ALICE", channel=REVIEW_CHANNEL)
    answer = await answer_to(slack, sent)
    assert check_blocks(answer["blocks"]) == []
    assert "`step_1`" in text_of(answer)
    assert "`step_200`" in text_of(answer)
    [shown] = [e for e in slack.emulator.ephemerals if e.user == "U0ALICE"]
    more = await slack.driver.click(
        action_id=ActionId.TRACE_MORE, user="U0ALICE", channel=REVIEW_CHANNEL, message_ts=shown.ts
    )
    page = await answer_to(slack, more)
    hidden_from = int(more.sent["actions"][0]["value"].split(" ")[1])
    assert f"`step_{hidden_from}`" in text_of(page)
    assert check_blocks(page["blocks"]) == []


async def test_the_trace_button_opens_the_same_answer(slack: Slack) -> None:
    """The Trace button on a handoff message answers like /trace with the run's story."""
    run_id, handoff_id = await slack.open_review()
    ts = await slack.post_message(handoff_id)
    sent = await slack.driver.click(
        action_id=ActionId.TRACE_OPEN, user="U0BOB", channel=REVIEW_CHANNEL, message_ts=ts
    )
    answer = await answer_to(slack, sent)
    assert f"Trace · {run_id}" in text_of(answer)
    assert "`send_reply` → *review*" in text_of(answer)
