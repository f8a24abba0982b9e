"""A handoff nobody decides: reviewers are reminded, then on-call is paged, then it expires.

With the default ``review_timeout`` of 2 h: the reminder at 1 h (50%), the escalation at
1 h 30 (75%), expiry (never approval) at 2 h.
"""

from __future__ import annotations

from bot import jobs
from handlers.ids import ActionId
from tests.alert_harness import ONCALL_CHANNEL, OnCall, block_text

REVIEW_CHANNEL = "C0REVIEW"


async def test_a_stale_handoff_reminds_the_reviewers(oncall: OnCall) -> None:
    """At half the review timeout, the handoff's thread mentions its reviewers, once."""
    await oncall.slack.open_review()
    await oncall.deliver()
    oncall.clock.advance(minutes=59)
    assert await jobs.handoff_check(oncall.services) == (0, 0)
    oncall.clock.advance(minutes=1)
    assert await jobs.handoff_check(oncall.services) == (0, 1)
    assert await jobs.handoff_check(oncall.services) == (0, 0)
    await oncall.deliver()
    [handoff_message] = oncall.posts(REVIEW_CHANNEL)
    [reminder] = oncall.replies(handoff_message)
    assert "<@U0ALICE> <@U0BOB>" in block_text(reminder)
    assert "expires unapproved at <!date^1767610800^{time}|11:00 UTC>" in block_text(reminder)


async def test_then_it_escalates_to_oncall(oncall: OnCall) -> None:
    """At three quarters of the timeout, on-call is paged in the alert channel and by DM."""
    await oncall.slack.open_review()
    await oncall.deliver()
    oncall.clock.advance(minutes=89)
    await jobs.handoff_check(oncall.services)
    report = await oncall.tick_and_deliver()
    assert report.opened == []
    oncall.clock.advance(minutes=1)
    report = await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert (alert.rule, report.opened, report.escalated) == (
        "stale_handoff",
        [alert.id],
        [alert.id],
    )
    [message] = oncall.posts(ONCALL_CHANNEL)
    assert "Stale handoff · ticket-triage" in block_text(message)
    [page] = oncall.replies(message)
    assert "<@U0ALICE>" in block_text(page)
    assert len(oncall.dms("U0ALICE")) == 1


async def test_a_decision_resolves_the_stale_handoff_alert(oncall: OnCall) -> None:
    """Once a reviewer decides, the next tick resolves the escalation."""
    _, handoff_id = await oncall.slack.open_review()
    await oncall.deliver()
    oncall.clock.advance(minutes=95)
    await oncall.tick_and_deliver()
    await oncall.slack.click(
        ActionId.HANDOFF_APPROVE, handoff_id, user="U0BOB", ts=oncall.posts(REVIEW_CHANNEL)[0].ts
    )
    await oncall.slack.decided(handoff_id)
    report = await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert report.resolved == [alert.id]
    assert "Resolved automatically" in block_text(oncall.posts(ONCALL_CHANNEL)[0])


async def test_at_the_timeout_it_expires_unapproved(oncall: OnCall) -> None:
    """The handoff check expires it at the review timeout, and its alert resolves."""
    await oncall.slack.open_review()
    await oncall.deliver()
    oncall.clock.advance(minutes=95)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=25)
    assert (await jobs.handoff_check(oncall.services))[0] == 1
    report = await oncall.tick_and_deliver()
    assert len(report.resolved) == 1
