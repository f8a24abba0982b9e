"""Policy backtests: the gate keeps what the policy read, and a proposed brief re-decides it."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import build_app
from bot.services import Services
from bot.settings import Settings
from store.models import AuditEntry, Event, Handoff, Run
from store.repositories.workflows import create_missing_workflows
from tests.conftest import TEST_WORKFLOWS, bearer
from tests.stats_harness import Case, seed
from workflows.backtest.inputs import RecordedQuestion
from workflows.backtest.promotion import note_mode_changes, record_backtest
from workflows.backtest.replay import Replayer
from workflows.backtest.report import BacktestReport
from workflows.backtest.scan import run_backtest
from workflows.clock import ManualClock
from workflows.config.brief import HandrailConfig, parse_config
from workflows.policy import matched_stop_topics

Client = TestClient[Any, Any]


@pytest.fixture
async def rows(services: Services, clock: ManualClock) -> None:
    """The workflow rows a server start creates, without starting one."""
    async with services.sessions() as db, db.begin():
        await create_missing_workflows(db, services.config.workflows, clock())


def proposed(**changes: Any) -> HandrailConfig:
    """The test brief with ticket-triage's fields changed as given."""
    data = copy.deepcopy(TEST_WORKFLOWS)
    data["workflows"]["ticket-triage"].update(changes)
    return parse_config(data)


async def ask(client: Client, token: str, **question: Any) -> str:
    """Open a run and ask the gate one question through the API; the run's ID."""
    response = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = str((await response.json())["run_id"])
    response = await client.post(
        f"/api/v1/runs/{run_id}/gate", json=question, headers=bearer(token)
    )
    assert response.status == 200, await response.text()
    return run_id


async def backtest(services: Services, brief: HandrailConfig) -> BacktestReport:
    async with services.readers() as db:
        return await run_backtest(
            db,
            current=services.config,
            proposed=brief,
            brief="proposed.yml",
            workflows=["ticket-triage"],
            since=timedelta(days=14),
            now=services.clock(),
        )


async def test_gate_step_keeps_the_policy_inputs_redacted(
    client: Client, token: str, services: Services
) -> None:
    """The verdict step holds action, confidence, matched stop topics per text and the payload's
    shape, with the texts redacted and a topic hidden in a redacted e-mail still named."""
    await ask(
        client,
        token,
        action="tag",
        draft="Write to legal@example.com about it",
        summary="a refund question",
        confidence=0.95,
        payload={"ticket": 42, "tags": ["billing"]},
    )
    async with services.sessions() as db:
        step = (await db.execute(select(Event).where(Event.type == "gate"))).scalar_one()
    inputs = step.input
    assert inputs["action"] == "tag"
    assert inputs["confidence"] == 0.95
    assert inputs["stop_topics"] == {"draft": ["legal"], "summary": ["refund"]}
    assert "legal@example.com" not in inputs["draft"]
    assert inputs["payload_shape"] == {"tags": ["str"], "ticket": "number"}


async def test_relaxed_brief_moves_reviews_to_allow_with_example_runs(
    client: Client, token: str, services: Services
) -> None:
    """In auto mode without send_reply's approval its confident reviews become allows."""
    confident = [
        await ask(client, token, action="send_reply", draft="Hi there", confidence=0.95)
        for _ in range(2)
    ]
    await ask(client, token, action="send_reply", draft="Hi there", confidence=0.5)
    report = await backtest(services, proposed(mode="auto", require_approval=["refund"]))
    (result,) = report.workflows
    assert result.questions == 3
    (change,) = result.changed
    assert (change.before, change.after, change.count) == ("review", "allow", 2)
    assert change.examples == confident
    assert (result.reviews_before, result.reviews_after) == (3, 1)
    assert report.partial == 0


async def test_new_stop_topic_is_found_in_the_kept_texts(
    client: Client, token: str, services: Services
) -> None:
    """A stop topic only the proposed brief names keeps a matching question in review."""
    await ask(client, token, action="tag", draft="About a chargeback", confidence=0.9)
    routine = await ask(client, token, action="tag", draft="Routine tagging", confidence=0.9)
    report = await backtest(services, proposed(mode="auto", stop_topics=["chargeback"]))
    (change,) = report.workflows[0].changed
    assert (change.before, change.after, change.examples) == ("review", "allow", [routine])


async def seed_older(
    services: Services, questions: list[tuple[str, float | None]], *, at: datetime
) -> None:
    """Gate steps as Handrail wrote them before it kept the policy inputs: the verdict's
    output names the handoff, and the handoff holds action, confidence and draft."""
    async with services.sessions() as db, db.begin():
        for number, (verdict, confidence) in enumerate(questions):
            run_id, handoff_id = f"run-old-{number}", f"hof_old{number}"
            opened = verdict == "review"
            db.add(Run(id=run_id, workflow="ticket-triage", status="running", started_at=at))
            await db.flush()
            db.add(
                Event(
                    run_id=run_id,
                    workflow="ticket-triage",
                    seq=1,
                    type="gate",
                    name="send_reply",
                    status=verdict,
                    output={
                        "verdict": verdict,
                        "reason": "recorded",
                        "handoff_id": handoff_id if opened else None,
                        "paused": False,
                    },
                    recorded_at=at,
                )
            )
            if opened:
                db.add(
                    Handoff(
                        id=handoff_id,
                        run_id=run_id,
                        workflow="ticket-triage",
                        kind="approval_required",
                        status="pending",
                        action="send_reply",
                        summary="send_reply needs a look",
                        draft="Your order ships today",
                        confidence=confidence,
                        created_at=at,
                    )
                )


@pytest.mark.usefixtures("rows")
async def test_questions_without_inputs_are_replayed_on_what_was_stored(
    services: Services, clock: ManualClock
) -> None:
    """Older gate steps are rebuilt from their handoffs and counted as partial replays."""
    await seed_older(
        services,
        [("review", 0.95), ("review", 0.82), ("allow", None)],
        at=clock() - timedelta(days=1),
    )
    brief = proposed(mode="auto", confidence_threshold=0.9, require_approval=[])
    (result,) = (await backtest(services, brief)).workflows
    assert (result.questions, result.partial) == (3, 3)
    (change,) = result.changed  # 0.82 < 0.9 stays review; the allowed one is assumed to clear
    assert (change.before, change.after, change.examples) == ("review", "allow", ["run-old-0"])


@pytest.mark.usefixtures("rows")
async def test_expected_wait_comes_from_the_window_s_review_times(
    services: Services, clock: ManualClock
) -> None:
    """The p50 and p90 of the window's decisions are reported with how many there were."""
    cases = [Case(latency_s=seconds) for seconds in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    await seed(services, cases, at=clock() - timedelta(days=2))
    waits = (await backtest(services, services.config)).workflows[0].waits
    assert waits is not None
    assert (waits.decisions, waits.p50_ms, waits.p90_ms) == (10, 50_000, 90_000)


async def test_review_load_is_spread_evenly_over_the_proposed_reviewers(
    client: Client, token: str, services: Services
) -> None:
    """Three reviews a day over a 14-day window, among three reviewers, is 1/14 each a day."""
    for _ in range(3):
        await ask(client, token, action="refund", draft="Refund 10 EUR", confidence=0.99)
    brief = proposed(reviewers=["U0ALICE", "U0BOB", "U0CAROL"])
    (result,) = (await backtest(services, brief)).workflows
    load = result.to_json()["review_load"]
    assert load["per_reviewer_per_day"] == {"U0ALICE": 0.07, "U0BOB": 0.07, "U0CAROL": 0.07}
    assert load["spread"] == "evenly over the proposed brief's reviewers"


async def test_empty_window_reports_zeros(services: Services) -> None:
    """With no questions recorded, nothing changes and no per-day figure divides by zero."""
    (result,) = (await backtest(services, proposed(mode="auto"))).workflows
    assert (result.questions, result.reviews_after, result.changed) == (0, 0, [])
    assert result.to_json()["expected_wait"] == {"decisions": 0, "p50_ms": None, "p90_ms": None}


@pytest.mark.usefixtures("rows")
async def test_promotion_names_the_recorded_backtest_of_that_brief(
    services: Services, clock: ManualClock
) -> None:
    """A start with shadow turned into review appends policy.promoted naming the backtest."""
    shadow = proposed(mode="shadow")
    review = proposed(mode="review")
    async with services.sessions() as db, db.begin():
        assert await note_mode_changes(db, config=shadow, now=clock()) == []
    report = await backtest(services, review)
    async with services.sessions() as db, db.begin():
        (recorded,) = await record_backtest(
            db, report=report, proposed=review, actor="cli:test", now=clock()
        )
    async with services.sessions() as db, db.begin():
        (entry,) = await note_mode_changes(db, config=review, now=clock())
    assert (entry.action, entry.workflow) == ("policy.promoted", "ticket-triage")
    assert entry.details is not None
    assert entry.details["from"] == "shadow"
    assert entry.details["backtest"]["sequence"] == recorded.sequence
    assert entry.details["backtest"]["report_digest"] == report.to_json()["digest"]


@pytest.mark.usefixtures("rows")
async def test_promotion_without_a_backtest_says_none(
    services: Services, clock: ManualClock
) -> None:
    """A promotion no backtest of the same brief preceded is still logged, with backtest null."""
    async with services.sessions() as db, db.begin():
        await note_mode_changes(db, config=proposed(mode="shadow"), now=clock())
    async with services.sessions() as db, db.begin():
        (entry,) = await note_mode_changes(db, config=proposed(mode="auto"), now=clock())
    assert entry.details is not None
    assert (entry.details["from"], entry.details["to"]) == ("shadow", "auto")
    assert entry.details["backtest"] is None


@pytest.mark.usefixtures("rows")
async def test_unchanged_mode_writes_nothing(services: Services, clock: ManualClock) -> None:
    """Starting twice with the same brief appends no audit entry."""
    for _ in range(2):
        async with services.sessions() as db, db.begin():
            await note_mode_changes(db, config=services.config, now=clock())
    async with services.sessions() as db:
        actions = (await db.execute(select(AuditEntry.action))).scalars().all()
    assert not [action for action in actions if action.startswith("policy.")]


async def test_workflows_the_proposed_brief_leaves_out_are_named(services: Services) -> None:
    """A workflow of the current brief missing from the proposed one is listed, not evaluated."""
    data = copy.deepcopy(TEST_WORKFLOWS)
    del data["workflows"]["invoice-extraction"]
    brief = parse_config(data)
    async with services.readers() as db:
        report = await run_backtest(
            db,
            current=services.config,
            proposed=brief,
            brief="proposed.yml",
            workflows=sorted(brief.workflows),
            since=timedelta(days=14),
            now=services.clock(),
        )
    assert report.to_json()["not_in_proposed_brief"] == ["invoice-extraction"]
    assert [w.workflow for w in report.workflows] == ["ticket-triage"]


async def test_a_server_start_with_a_promoted_mode_writes_the_entry(
    settings: Settings, services: Services
) -> None:
    """Starting the app in shadow mode, then in review mode, appends one policy.promoted."""
    for mode in ("shadow", "review"):
        started = replace(services, config=proposed(mode=mode))
        app = build_app(settings, services=started, migrate=False)
        async with TestClient(TestServer(app)):
            pass
    async with services.readers() as db:
        entries = (
            (await db.execute(select(AuditEntry).where(AuditEntry.action.like("policy.%"))))
            .scalars()
            .all()
        )
    assert [(e.action, e.workflow) for e in entries] == [("policy.promoted", "ticket-triage")]


def recorded(**fields: Any) -> RecordedQuestion:
    values: dict[str, Any] = {
        "run_id": "run-1",
        "workflow": "ticket-triage",
        "action": "tag",
        "verdict": "allow",
        "paused": False,
        "recorded_at": None,
        "confidence": 0.95,
        "confidence_known": True,
        "draft": "Routine tagging",
        "summary": None,
    }
    return RecordedQuestion(**{**values, **fields})


def test_a_recorded_pause_stays_a_denial() -> None:
    """A question asked while paused is denied under any brief: a pause is not in the brief."""
    replayer = Replayer(proposed(mode="auto").workflows["ticket-triage"], workflow="ticket-triage")
    assert replayer.replay(recorded(verdict="deny", paused=True)) == "deny"


def test_a_topic_found_in_redacted_text_still_stops_the_question() -> None:
    """A topic the gate found in text redaction removed counts while the brief still names it."""
    policy = proposed(mode="auto").workflows["ticket-triage"]
    question = recorded(draft="Write to [email]", topics_found=("legal",))
    assert Replayer(policy, workflow="ticket-triage").replay(question) == "review"
    dropped = proposed(mode="auto", stop_topics=["refund"]).workflows["ticket-triage"]
    assert Replayer(dropped, workflow="ticket-triage").replay(question) == "allow"


def test_matched_stop_topics_lists_each_topic_once_in_the_brief_s_spelling() -> None:
    """Every topic in a text is found, in order, once each, spelled as the brief spells it."""
    policy = proposed(stop_topics=["Refund", "account access"]).workflows["ticket-triage"]
    text = "ACCOUNT  ACCESS lost; refund please, another refund"
    assert matched_stop_topics(policy, text) == ["account access", "Refund"]
