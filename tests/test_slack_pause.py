"""``/pause`` and ``/resume`` in Slack: signed commands in, the switch thrown for every
instance, private answers, banners and alert notices out through the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.ids import ActionId
from store.models import Workflow
from tests.command_harness import (
    answer_to,
    command,
    gate_verdict,
    running_commands,
    second_instance,
    text_of,
)
from tests.conftest import Database, bearer
from tests.slack_harness import Slack
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


async def is_paused(slack: Slack, workflow: str = "ticket-triage") -> bool:
    async with slack.services.readers() as db:
        row = await db.get(Workflow, workflow)
    return row is not None and row.paused_at is not None


async def test_slash_pause_stops_the_gate_of_another_instance(slack: Slack) -> None:
    """Once /pause has answered, the gate of a second instance denies: the pause is one
    state in the database, not something each instance is told."""
    async with second_instance(slack) as other:
        run_id = await slack.start_run()
        assert (await gate_verdict(other, slack.token, run_id))["verdict"] != "deny"
        sent = await slack.driver.command(
            "/pause", "ticket-triage drafts promise refunds", user="U0ALICE", channel="C0REVIEW"
        )
        await answer_to(slack, sent)
        answer = await gate_verdict(other, slack.token, run_id)
    assert answer["verdict"] == "deny"
    assert "paused by U0ALICE: drafts promise refunds" in answer["reason"]


async def test_slash_pause_answers_privately(slack: Slack) -> None:
    """The person who paused is told, privately, what a pause does and who may resume."""
    sent = await slack.driver.command("/pause", "ticket-triage", user="U0BOB", channel="C0REVIEW")
    answer = await answer_to(slack, sent)
    assert answer["response_type"] == "ephemeral"
    assert "ticket-triage paused." in text_of(answer)
    assert "<#C0ONCALL> is told" in text_of(answer)
    assert "/resume ticket-triage" in text_of(answer)
    assert [r.effect for r in slack.emulator.responses] == ["ephemeral"]


async def test_pause_shows_a_banner_on_open_handoffs_and_tells_the_alert_channel(
    slack: Slack,
) -> None:
    """After /pause the open handoff message carries the banner and on-call gets a notice."""
    _, handoff_id = await slack.open_review()
    await slack.deliver()
    await command(slack, "/pause", "ticket-triage bad drafts", user="U0ALICE")
    await slack.deliver()
    banner = text_of({"blocks": slack.posted(handoff_id).blocks})
    assert "Paused by <@U0ALICE>: bad drafts" in banner
    [notice] = slack.emulator.messages("C0ONCALL")
    assert "ticket-triage paused* by <@U0ALICE>" in text_of({"blocks": notice.blocks})


async def test_a_mention_typed_in_the_reason_stays_text_everywhere(slack: Slack) -> None:
    """``/pause`` with ``<@U0EVE>`` in its reason mentions only the pauser in what it sends."""
    _, handoff_id = await slack.open_review()
    await slack.deliver()
    slack.emulator.clear_calls()
    await command(slack, "/pause", "ticket-triage ask <@U0EVE> or <@W0EVE>", user="U0ALICE")
    await slack.deliver()
    sent = [c for c in slack.emulator.calls if c.method.startswith("chat.")]
    assert {c.method for c in sent} == {"chat.update", "chat.postMessage"}
    for call in sent:
        assert "<@U0ALICE>" in str(call.body)
        assert "<@U0EVE>" not in str(call.body)
        assert "<@W0EVE>" not in str(call.body)
    banner = text_of({"blocks": slack.posted(handoff_id).blocks})
    assert "Paused by <@U0ALICE>: ask &lt;@U0EVE&gt; or &lt;@W0EVE&gt;." in banner


async def test_a_secret_typed_in_the_reason_is_never_stored(slack: Slack) -> None:
    """``/pause`` with a token in its reason stores and shows the reason redacted."""
    secret = "gh" + "p_FAKEfake0123456789abcdefABCDEF012345"
    await command(slack, "/pause", f"ticket-triage leaked {secret}", user="U0ALICE")
    async with slack.services.readers() as db:
        row = await db.get(Workflow, "ticket-triage")
    assert row is not None
    assert row.paused_reason == "leaked [REDACTED:github_token]"


async def test_a_non_admin_resume_is_refused_and_nothing_changes(slack: Slack) -> None:
    """A reviewer may pause but not resume: the answer says so and the pause stays."""
    await command(slack, "/pause", "ticket-triage", user="U0ALICE")
    answer = await command(slack, "/resume", "ticket-triage", user="U0ALICE")
    assert text_of(answer).startswith(
        "Permission denied: <@U0ALICE> is not an admin of ticket-triage"
    )
    assert await is_paused(slack)


async def test_an_admin_resume_delivers_held_decisions(slack: Slack) -> None:
    """A decision clicked while paused reaches the long-poll only after an admin resumes."""
    _, handoff_id = await slack.open_review()
    await slack.deliver()
    await command(slack, "/pause", "ticket-triage", user="U0ALICE")
    await slack.click(ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB", ts=None)
    await slack.decided(handoff_id)
    url = f"/api/v1/handoffs/{handoff_id}"
    held = await (await slack.api.get(url, headers=bearer(slack.token))).json()
    assert held["status"] == "held"
    poll = asyncio.create_task(slack.api.get(f"{url}?wait=10", headers=bearer(slack.token)))
    answer = await command(slack, "/resume", "ticket-triage", user="U0OWNER")
    assert "Released 1 held decision" in text_of(answer)
    body = await (await asyncio.wait_for(poll, 5)).json()
    assert (body["status"], body["decision"]["reviewer"]) == ("approved", "U0BOB")


async def test_pausing_an_unknown_workflow_says_which_exist(slack: Slack) -> None:
    """/pause of a workflow not in workflows.yml names the known ones and changes nothing."""
    answer = await command(slack, "/pause", "tikcet-triage", user="U0ALICE")
    assert "No workflow named 'tikcet-triage'" in text_of(answer)
    assert "ticket-triage" in text_of(answer)
    assert not await is_paused(slack)


@pytest.mark.parametrize("name", ["/pause", "/resume"])
async def test_an_unknown_workflow_is_quoted_escaped(slack: Slack, name: str) -> None:
    """A typed ``<!channel>`` or ``<@U…>`` as the workflow name comes back as inert text."""
    answer = await command(slack, name, "<!channel><@U0EVE> because", user="U0OWNER")
    said = text_of(answer)
    assert "No workflow named '&lt;!channel&gt;&lt;@U0EVE&gt;' in workflows.yml" in said
    assert "<!channel>" not in said
    assert "<@U0EVE>" not in said


async def test_pause_without_a_workflow_says_how(slack: Slack) -> None:
    """/pause alone answers with its usage."""
    answer = await command(slack, "/pause", "", user="U0ALICE")
    assert "Which workflow? Use `/pause WORKFLOW [reason]`" in text_of(answer)


async def test_someone_on_no_workflow_cannot_pause_all(slack: Slack) -> None:
    """/pause all needs a role on at least one workflow; a stranger changes nothing."""
    answer = await command(slack, "/pause", "all", user="U0STRANGER")
    assert "Permission denied: <@U0STRANGER>" in text_of(answer)
    assert not await is_paused(slack, "*")


async def test_on_call_pauses_all(slack: Slack) -> None:
    """On-call of one workflow may stop every workflow at once."""
    answer = await command(slack, "/pause", "all incident 4711", user="U0ALICE")
    assert "All workflows paused." in text_of(answer)
    assert await is_paused(slack, "*")
