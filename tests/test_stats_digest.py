"""The weekly review's trust figures: thresholds earned and what new prompt versions did."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from handlers.blocks.digest import digest_message
from sandbox.blockkit_limits import check_blocks
from tests.stats_harness import Case, seed
from workflows.clock import ManualClock
from workflows.digest.review import Digest, build_digest
from workflows.stats.prompt_notes import add_prompt_note

Client = TestClient[Any, Any]


async def digest(services: Services) -> Digest:
    async with services.readers() as db:
        return await build_digest(
            db, config=services.config, workflow="ticket-triage", now=services.clock()
        )


def text(found: Digest) -> str:
    message = digest_message(found)
    assert check_blocks(message.blocks) == []
    return "\n".join(str(block) for block in message.blocks)


@pytest.fixture
async def history(client: Client, services: Services, clock: ManualClock) -> ManualClock:
    clock.advance(days=20)
    return clock


async def test_a_new_version_is_compared_with_the_one_before(
    history: ManualClock, services: Services
) -> None:
    """v2 this week against v1 before: wrong rate 50% → 0% with the n, and its note."""
    v1 = [Case(prompt_version="v1")] * 10 + [Case(prompt_version="v1", outcome="edited")] * 10
    await seed(services, v1, at=history() - timedelta(days=14))
    await seed(services, [Case(prompt_version="v2")] * 20, at=history() - timedelta(days=2))
    async with services.sessions() as db, db.begin():
        await add_prompt_note(
            db,
            workflow="ticket-triage",
            version="v2",
            reason="shorter",
            author="ana",
            now=history(),
        )
    found = await digest(services)
    (effect,) = found.version_effects
    assert (effect.version, effect.previous) == ("v2", "v1")
    shown = text(found)
    assert "wrong rate 50% (10 of 20) → 0% (0 of 20)" in shown
    assert "why: shorter" in shown


async def test_a_new_version_without_a_note_is_unexplained(
    history: ManualClock, services: Services
) -> None:
    """A version first seen this week with no note is called unexplained."""
    await seed(services, [Case(prompt_version="v9")] * 3, at=history() - timedelta(days=1))
    assert "unexplained (no prompt note)" in text(await digest(services))


async def test_an_earned_threshold_is_suggested_in_the_review(
    history: ManualClock, services: Services
) -> None:
    """300 confident approvals make the review suggest a threshold, pointing at --suggest."""
    await seed(services, [Case(confidence=0.93)] * 300, at=history() - timedelta(days=3))
    shown = text(await digest(services))
    assert "Thresholds to consider" in shown
    assert "300 of 300 approved unchanged at or above 0.93" in shown
    assert "handrail stats ticket-triage --suggest" in shown
