"""``/handrail stats`` end to end: cases asked through the API, decided by signed clicks in
the emulator, and the metrics read back by a slash command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from handlers.ids import ActionId, BlockId, InputId
from sandbox.blockkit_limits import check_blocks
from store.models import Handoff
from tests.command_harness import command, running_commands, text_of
from tests.conftest import Database
from tests.slack_harness import Slack, eventually
from tests.stats_harness import Case, seed
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


async def looked_at(slack: Slack, handoff_id: str) -> int:
    """The handoff's time to first look, once the click's work after the modal has kept it."""

    async def probe() -> int | None:
        async with slack.services.readers() as db:
            found: int | None = await db.scalar(
                select(Handoff.first_look_ms).where(Handoff.id == handoff_id)
            )
            return found

    return await eventually(probe, what=f"the first look at {handoff_id}")


async def approve_and_reject(slack: Slack, clock: ManualClock) -> None:
    """Two cases: Alice approves one after 2 minutes, Bob rejects one after 5."""
    _, approved = await slack.open_review()
    _, rejected = await slack.open_review()
    await slack.deliver()
    clock.advance(minutes=2)
    await slack.click(ActionId.HANDOFF_APPROVE, approved, user="U0ALICE")
    await slack.decided(approved)
    clock.advance(minutes=3)
    await slack.click(ActionId.HANDOFF_REJECT, rejected, user="U0BOB")
    modal = await slack.opened_view("U0BOB")
    await slack.driver.submit_view(
        user="U0BOB",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "wrong customer"}},
    )
    await slack.decided(rejected)


async def test_stats_answers_privately_with_the_outcomes(slack: Slack, clock: ManualClock) -> None:
    """A reviewer's /handrail stats shows the cases decided by clicks, with n on each rate."""
    await approve_and_reject(slack, clock)
    answer = await command(slack, "/handrail", "stats ticket-triage", user="U0ALICE")
    text = text_of(answer)
    assert answer["response_type"] == "ephemeral"
    assert "2 handed off · approved 1, edited 0, rejected 1" in text
    assert "Wrong rate not enough data (1 of 2)" in text
    assert "<@U0BOB>: 1 decision(s)" in text
    assert check_blocks(answer["blocks"]) == []


async def test_stats_split_by_reviewer_has_a_line_each(slack: Slack, clock: ManualClock) -> None:
    """``stats ticket-triage 7d reviewer`` gives one line per person who decided."""
    await approve_and_reject(slack, clock)
    answer = await command(slack, "/handrail", "stats ticket-triage 7d reviewer", user="U0OWNER")
    text = text_of(answer)
    assert "*`U0ALICE`*: 1 handed off" in text
    assert "*`U0BOB`*: 1 handed off" in text


async def test_someone_off_the_workflow_may_not_read_its_stats(slack: Slack) -> None:
    """A person who neither reviews nor administers the workflow is refused, privately."""
    answer = await command(slack, "/handrail", "stats ticket-triage", user="U0STRANGER")
    assert "Permission denied" in text_of(answer)


async def test_a_bad_window_is_named(slack: Slack) -> None:
    """An option that is neither a window nor a split is named in the answer."""
    answer = await command(slack, "/handrail", "stats ticket-triage lately", user="U0ALICE")
    assert "`lately` is neither a window" in text_of(answer)


async def test_opening_reject_records_the_first_look(slack: Slack, clock: ManualClock) -> None:
    """Opening Reject a minute in sets the time to first look, which the decision does not move."""
    _, handoff_id = await slack.open_review()
    await slack.deliver()
    clock.advance(minutes=1)
    await slack.click(ActionId.HANDOFF_REJECT, handoff_id, user="U0BOB")
    modal = await slack.opened_view("U0BOB")
    await looked_at(slack, handoff_id)
    clock.advance(minutes=9)
    await slack.driver.submit_view(
        user="U0BOB",
        view_id=modal.id,
        state_values={BlockId.REJECT_REASON: {InputId.REJECT_REASON: "wrong customer"}},
    )
    await slack.decided(handoff_id)
    answer = await command(slack, "/handrail", "stats ticket-triage", user="U0ALICE")
    assert "p50 10 min, p90 10 min · first look p50 1 min" in text_of(answer)


async def test_recorded_names_are_escaped_in_the_answer(slack: Slack, clock: ManualClock) -> None:
    """An action named like a broadcast is shown escaped, never as a mention."""
    await seed(slack.services, [Case(action="<!channel> hi")] * 2, at=clock())
    clock.advance(hours=1)
    answer = await command(slack, "/handrail", "stats ticket-triage action", user="U0ALICE")
    text = text_of(answer)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; hi" in text


async def test_an_earned_threshold_comes_with_its_yaml_change(
    slack: Slack, clock: ManualClock
) -> None:
    """With the evidence, the answer suggests a threshold and shows the workflows.yml diff."""
    await seed(slack.services, [Case(confidence=0.97)] * 250, at=clock())
    clock.advance(hours=1)
    answer = await command(slack, "/handrail", "stats ticket-triage", user="U0OWNER")
    text = text_of(answer)
    assert "250 of 250 approved unchanged at or above 0.97" in text
    assert "+    confidence_threshold: 0.97" in text
    assert check_blocks(answer["blocks"]) == []


async def test_many_actions_still_fit_one_message(slack: Slack, clock: ManualClock) -> None:
    """Forty actions, each with confidences in every band, still make a valid message."""
    cases = [
        Case(action=f"action_number_{n}", confidence=band / 10 + 0.05)
        for n in range(40)
        for band in range(10)
    ]
    await seed(slack.services, cases, at=clock())
    clock.advance(hours=1)
    answer = await command(slack, "/handrail", "stats ticket-triage action", user="U0ALICE")
    assert check_blocks(answer["blocks"]) == []
    assert "… and 32 more; see `handrail stats`." in text_of(answer)


async def test_stats_charts_follow_in_the_dm(slack: Slack, clock: ManualClock) -> None:
    """The answer says the charts follow; the outbox then shares three PNGs in the DM, once."""
    await approve_and_reject(slack, clock)
    answer = await command(slack, "/handrail", "stats ticket-triage 7d", user="U0ALICE")
    assert "The charts of this window follow in your DM." in text_of(answer)
    await slack.deliver()
    [shared] = [m for m in slack.emulator.messages("D0ALICE") if m.files]
    assert shared.text.startswith("Charts of ticket-triage's review metrics, last 7 days")
    assert shared.files is not None
    assert [f["name"].split("-")[0] for f in shared.files] == ["outcomes", "review", "calibration"]
    assert "2 handoffs (1 approved, 1 rejected)" in shared.files[0]["alt_txt"]
    assert len(slack.emulator.calls_to("files.completeUploadExternal")) == 1
