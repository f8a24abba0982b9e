"""``/handrail status``, ``/handrail help`` and ``/handrail parked`` with its Resume and Take
over buttons, end to end against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handlers.ids import ActionId
from sandbox.blockkit_limits import check_blocks
from store.models import Alert, Handoff, ParkedJob, Workflow
from tests.command_harness import answer_to, command, running_commands, text_of
from tests.conftest import Database, bearer
from tests.slack_harness import REVIEW_CHANNEL, Slack
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


async def parked_job(
    slack: Slack, *, error: str | None = "timeout after 30 s from ocr_service"
) -> dict[str, Any]:
    run_id = await slack.start_run()
    fields: dict[str, Any] = {
        "last_step": "extract_totals",
        "input_ref": "invoice INV-2291.pdf",
        "extracted": {"supplier": "ACME"},
    }
    if error is not None:
        fields["error"] = error
    response = await slack.api.post(
        f"/api/v1/runs/{run_id}/park",
        json=fields,
        headers=bearer(slack.token),
    )
    assert response.status == 201, await response.text()
    job: dict[str, Any] = await response.json()
    return job


async def click_on_list(slack: Slack, action_id: str, user: str = "U0ALICE") -> dict[str, Any]:
    """``user`` opens /handrail parked and clicks ``action_id`` on the first job."""
    await command(slack, "/handrail", "parked", user=user)
    listing = [e for e in slack.emulator.ephemerals if e.user == user][-1]
    sent = await slack.driver.click(
        action_id=action_id, user=user, channel=REVIEW_CHANNEL, message_ts=listing.ts
    )
    return await answer_to(slack, sent)


async def test_status_shows_pauses_waiting_handoffs_alerts_and_the_outbox(
    slack: Slack, clock: ManualClock
) -> None:
    """/handrail status lists what is paused, waiting (with its age), firing and queued."""
    await slack.open_review()
    async with slack.services.sessions() as db, db.begin():
        db.add(
            Alert(
                id="alr_1",
                workflow="ticket-triage",
                rule="repeated_error",
                fingerprint="fp",
                status="firing",
                title="order_lookup timed out 5 times in 15 min",
                count=5,
                first_seen=clock(),
                last_seen=clock(),
                created_at=clock(),
            )
        )
    await command(slack, "/pause", "ticket-triage bad drafts", user="U0ALICE")
    clock.advance(minutes=12)
    answer = await command(slack, "/handrail", "status", user="U0ALICE")
    body = text_of(answer)
    assert "`ticket-triage` by <@U0ALICE>" in body
    assert "bad drafts" in body
    assert "`ticket-triage`: 1 pending, oldest 12 min old" in body
    assert "order_lookup timed out 5 times in 15 min" in body
    assert "*Outbox backlog:*" in body
    assert check_blocks(answer["blocks"]) == []


async def test_help_lists_the_commands(slack: Slack) -> None:
    """/handrail help names every command."""
    body = text_of(await command(slack, "/handrail", "help", user="U0BOB"))
    for name in ("/trace RUN_ID", "/pause WORKFLOW", "/resume WORKFLOW", "/handrail status"):
        assert name in body


async def test_an_unknown_subcommand_gets_the_help(slack: Slack) -> None:
    """/handrail with a word it does not know says so and lists the commands."""
    body = text_of(await command(slack, "/handrail", "stauts", user="U0BOB"))
    assert "`/handrail stauts` is not a command." in body
    assert "/handrail status" in body


async def test_handrail_trace_is_the_same_answer_as_slash_trace(slack: Slack) -> None:
    """/handrail trace RUN_ID answers exactly what /trace RUN_ID answers."""
    run_id = await slack.start_run()
    direct = await command(slack, "/trace", run_id, user="U0ALICE")
    sub = await command(slack, "/handrail", f"trace {run_id}", user="U0ALICE")
    assert sub["response_type"] == "ephemeral"
    assert (sub["text"], sub["blocks"]) == (direct["text"], direct["blocks"])
    assert run_id in text_of(sub)


async def test_handrail_pause_and_resume_throw_the_switch(slack: Slack) -> None:
    """/handrail pause stops a workflow with its reason; /handrail resume (an admin) restarts it."""
    paused = await command(slack, "/handrail", "PAUSE ticket-triage bad drafts", user="U0ALICE")
    assert "ticket-triage paused." in text_of(paused)
    async with slack.services.readers() as db:
        row = await db.get(Workflow, "ticket-triage")
    assert row is not None
    assert (row.paused_by, row.paused_reason) == ("U0ALICE", "bad drafts")
    resumed = await command(slack, "/handrail", "resume ticket-triage", user="U0OWNER")
    assert "resumed" in text_of(resumed).lower()
    async with slack.services.readers() as db:
        row = await db.get(Workflow, "ticket-triage")
    assert row is not None
    assert row.paused_at is None


async def test_handrail_resume_keeps_the_admin_check(slack: Slack) -> None:
    """/handrail resume by a reviewer is refused exactly as /resume is."""
    await command(slack, "/handrail", "pause ticket-triage", user="U0ALICE")
    answer = await command(slack, "/handrail", "resume ticket-triage", user="U0ALICE")
    assert text_of(answer).startswith(
        "Permission denied: <@U0ALICE> is not an admin of ticket-triage"
    )


async def test_bare_handrail_lists_the_commands_privately(slack: Slack) -> None:
    """/handrail with no word answers privately with every command, subcommands included."""
    answer = await command(slack, "/handrail", "", user="U0BOB")
    assert answer["response_type"] == "ephemeral"
    body = text_of(answer)
    for name in ("/handrail trace RUN_ID", "/handrail pause WORKFLOW", "/handrail resume"):
        assert name in body


async def test_parked_lists_jobs_with_resume_and_take_over(slack: Slack) -> None:
    """/handrail parked shows each waiting job's context with its two buttons."""
    job = await parked_job(slack)
    answer = await command(slack, "/handrail", "parked", user="U0ALICE")
    body = text_of(answer)
    assert job["parked_id"] in body
    assert "extract_totals" in body
    assert "timeout after 30 s from ocr_service" in body
    actions = [
        element["action_id"]
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert actions == [ActionId.PARKED_RESUME, ActionId.PARKED_TAKE_OVER]


async def test_resume_lets_the_automation_continue_from_its_last_step(slack: Slack) -> None:
    """After Resume the automation claims the job with its context, once."""
    job = await parked_job(slack)
    answer = await click_on_list(slack, ActionId.PARKED_RESUME)
    assert "will resume" in text_of(answer)
    claim = await slack.api.post("/api/v1/parked/claim", json={}, headers=bearer(slack.token))
    [claimed] = (await claim.json())["jobs"]
    assert (claimed["parked_id"], claimed["last_step"]) == (job["parked_id"], "extract_totals")
    assert claimed["extracted"] == {"supplier": "ACME"}


async def test_take_over_opens_a_handoff_with_the_context(slack: Slack) -> None:
    """Take over records a tool-failure handoff taken over by the clicker, with the context."""
    job = await parked_job(slack)
    answer = await click_on_list(slack, ActionId.PARKED_TAKE_OVER, user="U0BOB")
    assert "You took over" in text_of(answer)
    async with slack.services.readers() as db:
        stored = await db.get(ParkedJob, job["parked_id"])
        assert stored is not None
        handoff = await db.scalar(select(Handoff).where(Handoff.id == stored.handoff_id))
    assert handoff is not None
    assert (handoff.kind, handoff.status) == ("tool_failure", "taken_over")
    assert handoff.context["input_ref"] == "invoice INV-2291.pdf"
    assert handoff.last_step == "extract_totals"
    assert (stored.status, stored.decided_by) == ("taken_over", "U0BOB")


async def test_take_over_of_a_job_parked_without_an_error_is_recorded(slack: Slack) -> None:
    """With no error the take-over opens an ``other`` handoff and still records it taken over."""
    job = await parked_job(slack, error=None)
    answer = await click_on_list(slack, ActionId.PARKED_TAKE_OVER, user="U0BOB")
    assert "You took over" in text_of(answer)
    async with slack.services.readers() as db:
        stored = await db.get(ParkedJob, job["parked_id"])
        assert stored is not None
        handoff = await db.scalar(select(Handoff).where(Handoff.id == stored.handoff_id))
    assert handoff is not None
    assert (handoff.kind, handoff.status) == ("other", "taken_over")
    assert (stored.status, stored.decided_by) == ("taken_over", "U0BOB")


async def test_a_stale_second_click_is_told_who_was_first(slack: Slack) -> None:
    """Resume after someone took the job over changes nothing and names them."""
    await parked_job(slack)
    await command(slack, "/handrail", "parked", user="U0ALICE")
    listing = [e for e in slack.emulator.ephemerals if e.user == "U0ALICE"][-1]
    await click_on_list(slack, ActionId.PARKED_TAKE_OVER, user="U0BOB")
    sent = await slack.driver.click(
        action_id=ActionId.PARKED_RESUME,
        user="U0ALICE",
        channel=REVIEW_CHANNEL,
        message_ts=listing.ts,
    )
    answer = await answer_to(slack, sent)
    assert "is already taken over by <@U0BOB>" in text_of(answer)


async def test_someone_off_the_workflow_cannot_resume_a_job(slack: Slack) -> None:
    """A click from someone not on the job's workflow is refused and the job stays parked."""
    job = await parked_job(slack)
    await command(slack, "/handrail", "parked", user="U0ALICE")
    listing = [e for e in slack.emulator.ephemerals if e.user == "U0ALICE"][-1]
    sent = await slack.driver.click(
        action_id=ActionId.PARKED_RESUME,
        user="U0STRANGER",
        channel=REVIEW_CHANNEL,
        message_ts=listing.ts,
    )
    assert text_of(await answer_to(slack, sent)).startswith("Permission denied: <@U0STRANGER>")
    async with slack.services.readers() as db:
        stored = await db.get(ParkedJob, job["parked_id"])
    assert stored is not None
    assert stored.status == "parked"


async def test_the_parked_list_shows_only_the_persons_workflows(slack: Slack) -> None:
    """Someone on no workflow sees no jobs."""
    await parked_job(slack)
    body = text_of(await command(slack, "/handrail", "parked", user="U0STRANGER"))
    assert "No parked jobs are waiting on your workflows." in body
