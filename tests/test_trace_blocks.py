"""The /trace builders always produce a message Slack accepts, however long or hostile the run."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from handlers.blocks.trace import trace_message, trace_page_message
from handlers.ids import ActionId
from sandbox.blockkit_limits import check_blocks
from workflows.delivery.deliveries import FailedDelivery
from workflows.ledger.trace import HandoffStory, StepView, TracePage, TraceView
from workflows.ledger.views import DecisionView

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def step(seq: int, *, type: str = "tool", error: str | None = None, **fields: object) -> StepView:
    values: dict[str, object] = {
        "seq": seq,
        "type": type,
        "name": f"step_{seq}",
        "status": "ok",
        "duration_ms": 120.0,
        "input": '{"order": "A-1"}',
        "output": '{"status": "shipped"}',
        "error": error,
    }
    values.update(fields)
    return StepView(**values)  # type: ignore[arg-type]


def view(steps: list[StepView], **fields: object) -> TraceView:
    values: dict[str, object] = {
        "run_id": "run_01JDZ3K6Q4J1P6Y5M2T8W9X0AB",
        "workflow": "ticket-triage",
        "status": "failed",
        "started_at": START,
        "ended_at": START + timedelta(seconds=42),
        "prompt_version": "triage-v3",
        "model": "gpt-4o",
        "input_source": "ticket 4812",
        "error": None,
        "step_count": len(steps),
        "head": tuple(steps),
    }
    values.update(fields)
    return TraceView(**values)  # type: ignore[arg-type]


def text(blocks: list[dict[str, object]]) -> str:
    return str(blocks)


def more_buttons(blocks: list[dict[str, object]]) -> list[str]:
    return [
        element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]  # type: ignore[attr-defined]
        if element["action_id"] == ActionId.TRACE_MORE
    ]


def test_a_short_run_shows_every_step_and_no_show_more() -> None:
    """Ten plain steps fit: all are shown, in order, without a Show more button."""
    message = trace_message(view([step(n) for n in range(1, 11)]))
    assert check_blocks(message.blocks) == []
    body = text(message.blocks)
    assert body.index("step_1`") < body.index("step_10`")
    assert more_buttons(message.blocks) == []


def test_the_header_states_the_run_facts() -> None:
    """The header carries workflow, status, start, end, duration, prompt, model and source."""
    body = text(trace_message(view([step(1)])).blocks)
    for fact in ("ticket-triage", "failed", "09:00", "42 s", "triage-v3", "gpt-4o", "ticket 4812"):
        assert fact in body


@pytest.mark.parametrize("count", [60, 200, 1000])
def test_a_long_run_shows_first_and_last_steps_and_show_more(count: int) -> None:
    """A run too long for one message keeps its ends, says what is hidden and offers more."""
    steps = [
        step(n, error="timeout after 30 s from order_lookup\n" * 40) for n in range(1, count + 1)
    ]
    message = trace_message(view(steps))
    assert check_blocks(message.blocks) == []
    assert len(message.blocks) <= 50
    body = text(message.blocks)
    assert "step_1`" in body
    assert f"step_{count}`" in body
    [value] = more_buttons(message.blocks)
    run_id, start = value.split(" ")
    assert run_id == "run_01JDZ3K6Q4J1P6Y5M2T8W9X0AB"
    assert f"step_{start}`" not in body
    assert "hidden" in body


def test_gate_verdicts_among_hidden_steps_are_still_listed() -> None:
    """Every gate verdict stays visible even when its step is hidden."""
    steps = [step(n, error="boom " * 300) for n in range(1, 121)]
    steps[59] = step(60, type="gate", name="send_reply", status="review", detail="stop topic")
    message = trace_message(view(steps))
    body = text(message.blocks)
    assert "Gate verdicts in the hidden steps" in body
    assert "send_reply" in body


def test_a_domain_gap_between_head_and_tail_is_never_shown_as_contiguous() -> None:
    """When the store read only both ends, the hidden range starts right after the head."""
    head = [step(n) for n in range(1, 61)]
    tail = [step(n) for n in range(941, 1001)]
    message = trace_message(view(head, tail=tuple(tail), step_count=1000))
    assert check_blocks(message.blocks) == []
    [value] = more_buttons(message.blocks)
    hidden_from = int(value.split(" ")[1])
    assert 2 <= hidden_from <= 61


def test_hostile_text_is_escaped() -> None:
    """Model output cannot mention anyone or break out of its code block."""
    evil = "<!channel> <@U0BOB> ``` *bold*"
    message = trace_message(view([step(1, output=evil, error=evil)]))
    body = text(message.blocks)
    assert "<!channel>" not in body
    assert "<@U0BOB>" not in body
    assert "&lt;!channel&gt;" in body


def test_handoffs_show_who_decided_the_reason_and_the_edit() -> None:
    """Each handoff shows its decision: outcome, reviewer, time, reason and diff."""
    decided = DecisionView(
        outcome="edited",
        reviewer="U0ALICE",
        decided_at=START + timedelta(minutes=3),
        final_text="Hello",
        diff="--- draft\n+++ sent\n-Hi\n+Hello",
        reason="tone",
        category="wrong_tone",
        latency_ms=180_000,
    )
    handoff = HandoffStory(
        id="hof_1",
        kind="draft",
        status="edited",
        summary="reply to ticket",
        action="send_reply",
        created_at=START,
        decision=decided,
    )
    body = text(trace_message(view([step(1)], handoffs=(handoff,))).blocks)
    for fact in ("edited", "<@U0ALICE>", "09:03", "3 min", "tone", "Wrong tone", "+Hello"):
        assert fact in body


def test_many_handoffs_stay_within_the_block_limit() -> None:
    """Forty handoffs are summarised past the budget, and the message is still valid."""
    handoffs = tuple(
        HandoffStory(
            id=f"hof_{n}",
            kind="draft",
            status="pending",
            summary="x" * 2000,
            action=None,
            created_at=START,
            decision=None,
        )
        for n in range(40)
    )
    message = trace_message(view([step(n) for n in range(1, 200)], handoffs=handoffs))
    assert check_blocks(message.blocks) == []
    assert "more handoffs" in text(message.blocks)


def test_many_failed_deliveries_take_one_section_within_the_limits() -> None:
    """Sixty failed deliveries with long errors fit one section that says how many are left."""
    handoffs = tuple(
        HandoffStory(
            id=f"hof_{n}",
            kind="draft",
            status="pending",
            summary="x",
            action=None,
            created_at=START,
            decision=None,
        )
        for n in range(40)
    )
    failed = tuple(
        FailedDelivery(
            handoff_id=f"hof_{n % 40}",
            kind="slack.post",
            message="handoff",
            target="C0REVIEW",
            error="channel_not_found <!channel> " + "e" * 3000,
            attempts=1,
            queued_at=START,
            failed_at=START,
        )
        for n in range(60)
    )
    plain = trace_message(view([step(n) for n in range(1, 200)], handoffs=handoffs))
    message = trace_message(
        view([step(n) for n in range(1, 200)], handoffs=handoffs, failed_deliveries=failed)
    )
    assert check_blocks(message.blocks) == []
    assert len(message.blocks) <= len(plain.blocks) + 1
    body = text(message.blocks)
    assert "*60 failed deliveries*" in body
    assert "more: `handrail trace` lists them all" in body
    assert "<!channel>" not in body


def test_a_page_continues_where_the_last_one_stopped() -> None:
    """A Show more page shows steps from the one asked for and offers the next page."""
    steps = tuple(step(n, error="e" * 1400) for n in range(61, 101))
    message = trace_page_message(
        TracePage(run_id="run_1", workflow="ticket-triage", step_count=1000, steps=steps, more=True)
    )
    assert check_blocks(message.blocks) == []
    body = text(message.blocks)
    assert "step_61`" in body
    [value] = more_buttons(message.blocks)
    assert int(value.split(" ")[1]) > 61


def test_the_last_page_says_so() -> None:
    """The final page has no Show more button and says the run ends there."""
    page = TracePage(
        run_id="run_1",
        workflow="ticket-triage",
        step_count=3,
        steps=(step(3),),
        more=False,
    )
    message = trace_page_message(page)
    assert more_buttons(message.blocks) == []
    assert "End of the run." in text(message.blocks)


def test_runs_of_every_shape_stay_within_slacks_limits() -> None:
    """Seeded random runs (lengths, errors, gates, gaps) always give a valid message."""
    rng = random.Random(4)
    for _ in range(60):
        count = rng.randint(1, 400)
        steps = [
            step(
                n,
                type=rng.choice(("tool", "model", "gate", "decision")),
                error=("x" * rng.randint(0, 5000)) if rng.random() < 0.3 else None,
                output="y" * rng.randint(0, 400),
            )
            for n in range(1, count + 1)
        ]
        head, tail = steps[:40], steps[-40:] if count > 120 else []
        shown = view(head if tail else steps, tail=tuple(tail), step_count=count)
        message = trace_message(shown)
        assert check_blocks(message.blocks) == [], count
        assert len(message.blocks) <= 50
