"""The weekly failure review: a seeded week read back as numbers, and as the message sent.

The week is built through the public API (runs, failures, gate questions, a tool-failure
handoff) with the ManualClock moved between steps; reviewer decisions are recorded with
``record_decision``, as a click would record them.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import jobs
from bot.services import Services
from handlers.blocks.digest import digest_message
from tests.alert_harness import ONCALL_CHANNEL, OnCall, block_text
from tests.command_harness import command, text_of
from tests.conftest import bearer
from workflows.clock import ManualClock
from workflows.digest.review import Digest, build_digest
from workflows.errors import NotFound
from workflows.review.decisions import DecisionInput, record_decision

Client = TestClient[Any, Any]
DRAFT = "Dear Sam,\nyour refund is on its way.\nBest, Support"


async def run(client: Client, token: str, version: str, *, error: str | None = None) -> str:
    response = await client.post(
        "/api/v1/runs", json={"prompt_version": version}, headers=bearer(token)
    )
    run_id = str((await response.json())["run_id"])
    if error is not None:
        finished = await client.post(
            f"/api/v1/runs/{run_id}/finish",
            json={"status": "failed", "error": error},
            headers=bearer(token),
        )
        assert finished.status == 200, await finished.text()
    return run_id


async def review(client: Client, token: str, version: str) -> str:
    run_id = await run(client, token, version)
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate",
        json={"action": "send_reply", "draft": DRAFT, "confidence": 0.95},
        headers=bearer(token),
    )
    return str((await response.json())["handoff_id"])


async def decide(services: Services, handoff_id: str, **decision: Any) -> None:
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(reviewer="U0ALICE", **decision),
            now=services.clock(),
        )


async def seed_week(client: Client, token: str, services: Services, clock: ManualClock) -> None:
    """Last week on v1; this week v1 then v2, five failures, four decisions, one tool failure."""
    await run(client, token, "v1")
    clock.advance(hours=2)  # the week starts an hour after that run
    for invoice in (1001, 1002, 1003):
        await run(client, token, "v1", error=f"timeout after 30 s for invoice {invoice}")
    await run(client, token, "v1", error="permission denied for order_lookup")
    clock.advance(days=2)
    await run(client, token, "v2")
    timings = [("approved", 2), ("edited", 10), ("edited", 20), ("rejected", 60)]
    for outcome, minutes in timings:
        handoff_id = await review(client, token, "v2")
        clock.advance(minutes=minutes)
        extra: dict[str, Any] = {}
        if outcome == "edited":
            extra["final_text"] = DRAFT.replace("Dear", "Hi")
        if outcome == "rejected":
            extra = {"reason": "wrong refund amount", "category": "wrong_facts"}
        await decide(services, handoff_id, outcome=outcome, **extra)
    run_id = await run(client, token, "v2")
    await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"kind": "tool_failure", "summary": "order_lookup is down", "tool": "order_lookup"},
        headers=bearer(token),
    )
    clock.current = clock.current.replace(day=12, hour=10, minute=0)


@pytest.fixture
async def week(client: Client, token: str, services: Services, clock: ManualClock) -> Digest:
    await seed_week(client, token, services, clock)
    async with services.readers() as db:
        return await build_digest(db, config=services.config, workflow="ticket-triage", now=clock())


async def test_failed_runs_are_grouped_by_fingerprint(week: Digest) -> None:
    """Three timeouts for different invoices are one group; the permission error another."""
    assert (week.runs, week.failed_runs) == (10, 4)
    assert [(group.count, group.sample) for group in week.failures] == [
        (3, "timeout after 30 s for invoice 1003"),
        (1, "permission denied for order_lookup"),
    ]


async def test_reviewer_outcomes_and_times(week: Digest) -> None:
    """Shares of approved, edited and rejected, with median and p90 review time."""
    reviews = week.reviews
    assert reviews.decisions == 4
    assert (reviews.share("approved"), reviews.share("edited"), reviews.share("rejected")) == (
        0.25,
        0.5,
        0.25,
    )
    assert (reviews.median_ms, reviews.p90_ms) == (10 * 60_000, 60 * 60_000)


async def test_rejections_and_the_most_repeated_correction(week: Digest) -> None:
    """Reasons and categories of rejections, and "Dear" → "Hi" made twice."""
    assert week.reviews.categories == [("wrong_facts", 1)]
    assert week.reviews.reasons == ["wrong refund amount"]
    correction = week.reviews.correction
    assert correction is not None
    assert (correction.before, correction.after, correction.count) == ("dear", "hi", 2)


async def test_handoff_kinds_and_new_prompt_versions(week: Digest) -> None:
    """Why cases came to people, and v2 as the prompt version new this week (v1 before)."""
    assert dict(week.handoff_kinds)["tool_failure"] == 1
    assert sum(n for _, n in week.handoff_kinds) == 5
    assert [v.version for v in week.new_prompt_versions] == ["v2"]
    assert week.earlier_prompt_versions == ["v1"]


async def test_the_message_shows_the_weeks_numbers(week: Digest) -> None:
    """The built message carries the counts, shares, times, correction and a Trace button."""
    message = digest_message(week)
    text = str(message.blocks)
    for expected in (
        "Weekly failure review · ticket-triage",
        "*3 time(s)* `timeout after 30 s for invoice 1003`",
        "approved 25% (1) · edited 50% (2) · rejected 25% (1)",
        "median 10 min, p90 1 h",
        "Wrong facts 1",
        "wrong refund amount",
        "“dear” → “hi” (2 times)",
        "`v2`",
        "trace-open",
    ):
        assert expected in text, expected


async def test_an_unknown_workflow_is_not_found(services: Services, clock: ManualClock) -> None:
    """Asking for the review of a workflow not in workflows.yml names the known ones."""
    async with services.readers() as db:
        with pytest.raises(NotFound, match="known: invoice-extraction, ticket-triage"):
            await build_digest(db, config=services.config, workflow="nope", now=clock())


async def test_the_weekly_job_posts_to_the_alert_channel_and_the_owner(oncall: OnCall) -> None:
    """The scheduled job sends the review to the alert channel and the owner's DM, once."""
    await oncall.fail()
    oncall.clock.advance(days=1)
    assert await jobs.weekly_digest(oncall.services) == 2
    assert await jobs.weekly_digest(oncall.services) == 2  # same keys: ignored
    await oncall.deliver()
    [posted] = oncall.posts(ONCALL_CHANNEL)
    [dm] = [message for message in oncall.dms("U0OWNER") if message.thread_ts is None]
    for message in (posted, dm):
        assert "Weekly failure review · ticket-triage" in block_text(message)
        assert "1 run(s), 0 failed" in block_text(message)


async def test_handrail_digest_answers_privately(oncall: OnCall) -> None:
    """``/handrail digest ticket-triage`` by a reviewer gets this week's review, privately."""
    await oncall.fail(times=2)
    oncall.clock.advance(minutes=1)
    answer = await command(oncall.slack, "/handrail", "digest ticket-triage", user="U0BOB")
    assert answer["response_type"] == "ephemeral"
    assert "Weekly failure review · ticket-triage" in text_of(answer)
    assert "2 run(s), 0 failed" in text_of(answer)


async def test_handrail_digest_is_refused_to_people_off_the_workflow(oncall: OnCall) -> None:
    """Someone who neither reviews, administers nor is on call for it is told so."""
    answer = await command(oncall.slack, "/handrail", "digest invoice-extraction", user="U0BOB")
    assert text_of(answer).startswith("Permission denied: <@U0BOB> is not a reviewer")


async def test_handrail_digest_without_a_workflow_says_which(oncall: OnCall) -> None:
    """No workflow named: the answer lists the workflows to choose from."""
    answer = await command(oncall.slack, "/handrail", "digest", user="U0BOB")
    assert "`/handrail digest WORKFLOW` (workflows: invoice-extraction, ticket-triage)" in (
        text_of(answer)
    )


async def test_handrail_digest_of_an_unknown_workflow_quotes_it_escaped(oncall: OnCall) -> None:
    """A typed ``<!channel>`` or ``<@U…>`` as the workflow name comes back as inert text."""
    answer = await command(oncall.slack, "/handrail", "digest <!channel><@U0EVE>", user="U0BOB")
    assert "No workflow named '&lt;!channel&gt;&lt;@U0EVE&gt;' in workflows.yml" in text_of(answer)
    assert "<!channel>" not in text_of(answer)
    assert "<@U0EVE>" not in text_of(answer)


async def test_the_weekly_review_carries_its_charts_in_its_thread(oncall: OnCall) -> None:
    """Three PNG charts are shared once, in the thread of each review, through the upload API."""
    await oncall.fail()
    oncall.clock.advance(days=1)
    await jobs.weekly_digest(oncall.services)
    await jobs.weekly_digest(oncall.services)
    for _ in range(3):
        await oncall.deliver()
    [posted] = oncall.posts(ONCALL_CHANNEL)
    [dm_review, dm_charts] = oncall.dms("U0OWNER")
    [charts] = oncall.replies(posted)
    assert dm_charts.thread_ts == dm_review.ts
    for message in (charts, dm_charts):
        assert message.files is not None
        assert [f["title"] for f in message.files] == [
            "ticket-triage: handoffs and outcomes per day",
            "ticket-triage: review time",
            "ticket-triage: confidence calibration",
        ]
        assert message.text.startswith("Charts of ticket-triage's review metrics, last 30 days")
    shared = oncall.emulator.files
    assert len(shared) == 6
    assert all(f.completed and (f.data or b"").startswith(b"\x89PNG") for f in shared)
    assert len(oncall.emulator.calls_to("files.completeUploadExternal")) == 2
