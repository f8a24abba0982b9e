"""``handrail trace`` output: a stored run printed so a terminal shows exactly what was stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from bot.cli.trace_text import render_trace
from bot.services import Services
from store.models import Event, Run
from tests.conftest import bearer
from workflows.ledger.story import RunStory, read_run_story

Client = TestClient[Any, Any]
FORGED = "ok\n2. tool   fake-step  1 ms\u001b[31mRED"
#: What a terminal would act on: everything but the newlines that end the printed lines.
TERMINAL_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


async def traced(client: Client, token: str, services: Services, **fields: Any) -> str:
    """Start a run, log ``fields`` as its one step through the API, and print its trace."""
    started = await client.post(
        "/api/v1/runs", json={"input_source": "ticket\x1b]0;owned\x07 4812"}, headers=bearer(token)
    )
    run_id = (await started.json())["run_id"]
    logged = await client.post(
        f"/api/v1/runs/{run_id}/events",
        json={"events": [{"type": "tool", **fields}]},
        headers=bearer(token),
    )
    assert logged.status == 202, await logged.text()
    async with services.readers() as db:
        return render_trace(await read_run_story(db, run_id=run_id))


async def test_control_characters_in_one_line_fields_are_shown_escaped(
    client: Client, token: str, services: Services
) -> None:
    """A step name with a newline and ANSI escapes prints as one line, escapes visible."""
    text = await traced(client, token, services, name=FORGED, status="err\u202eor")

    assert TERMINAL_CONTROLS.search(text) is None
    steps = text.split("Steps (1)\n", 1)[1].splitlines()
    assert steps[0] == ("1. tool    ok\\n2. tool   fake-step  1 ms\\x1b[31mRED [err\\u202eor]  —")
    assert not any(line.startswith("2.") for line in steps)
    assert "  input source    ticket\\x1b]0;owned\\x07 4812\n" in text


async def test_error_text_keeps_its_lines_under_its_step_and_escapes_the_rest(
    client: Client, token: str, services: Services
) -> None:
    """A multi-line error keeps its line breaks, indented; a carriage return or OSC is escaped."""
    error = "Traceback:\r\n  line 1\n\tboom\r\x1b]0;title\x07done\n"
    text = await traced(client, token, services, name="order_lookup", error=error)

    assert TERMINAL_CONTROLS.search(text) is None
    assert text.endswith(
        "1. tool    order_lookup  —\n"
        "     error:\n"
        "       Traceback:\n"
        "         line 1\n"
        "       \\tboom\\r\\x1b]0;title\\x07done\n"
    )


def test_step_numbers_past_the_step_count_keep_their_column() -> None:
    """When step numbers outgrow the number of steps read, details still line up under them."""
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    run = Run(id="run_1", workflow="ticket-triage", status="running", started_at=at)
    events = [
        Event(seq=seq, type="tool", name=f"step_{seq}", input={"n": seq}, recorded_at=at)
        for seq in (7, 99, 100, 101)
    ]
    story = RunStory(run=run, events=events, handoffs=(), decisions=())

    lines = render_trace(story).split("Steps (4)\n", 1)[1].splitlines()

    assert lines == [
        "  7. tool    step_7  —",
        '       in:  {"n":7}',
        " 99. tool    step_99  —",
        '       in:  {"n":99}',
        "100. tool    step_100  —",
        '       in:  {"n":100}',
        "101. tool    step_101  —",
        '       in:  {"n":101}',
    ]
