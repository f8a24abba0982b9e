"""An alert's life in Slack: fire once, count up in place, repeat, escalate, resolve, fire anew.

Failures are reported through the public API, evaluation ticks run at the ManualClock's
time (as the scheduler would run them), and the real outbox worker delivers to the
emulator, whose recording is what the assertions read.
"""

from __future__ import annotations

from tests.alert_harness import ONCALL_CHANNEL, OnCall, block_text


async def test_five_repeated_errors_raise_one_alert(oncall: OnCall) -> None:
    """Five runs failing with the same error (numbers aside) post one alert message."""
    for invoice in (101, 102, 103, 104, 105):
        await oncall.fail(f"timeout after 30 s for invoice {invoice}")
        oncall.clock.advance(seconds=20)
    report = await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert report.opened == [alert.id]
    assert (alert.rule, alert.status, alert.count) == ("repeated_error", "firing", 5)
    [message] = oncall.posts()
    assert "timeout after 30 s for invoice 105" in block_text(message)
    assert "Acknowledge" in block_text(message)


async def test_four_errors_raise_nothing(oncall: OnCall) -> None:
    """Below the count nothing is raised and nothing reaches Slack."""
    await oncall.fail(times=4)
    await oncall.tick_and_deliver()
    assert await oncall.alerts() == []
    assert oncall.posts() == []


async def test_more_errors_update_the_same_message(oncall: OnCall) -> None:
    """Errors after the fire raise the count in place: no new message, no thread reply."""
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    for _ in range(3):
        oncall.clock.advance(minutes=1)
        await oncall.fail(times=2)
        await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert alert.count == 11
    [message] = oncall.posts()
    assert message.updates == 3
    assert "*Count*\n11" in block_text(message)
    assert oncall.replies(message) == []


async def test_a_repeat_goes_in_the_thread_at_the_repeat_interval(oncall: OnCall) -> None:
    """While it keeps firing unacknowledged, the thread gets a reminder every 4 hours only."""
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=16)
    await oncall.fail()
    await oncall.tick_and_deliver()  # the escalation
    [message] = oncall.posts()
    assert len(oncall.replies(message)) == 1
    for _ in range(7):  # 3.5 hours of errors every half hour: no reminder yet
        oncall.clock.advance(minutes=30)
        await oncall.fail()
        await oncall.tick_and_deliver()
    assert len(oncall.replies(message)) == 1
    oncall.clock.advance(minutes=30)
    await oncall.fail()
    report = await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert report.repeated == [alert.id]
    _escalation, repeat = oncall.replies(message)
    assert "Still firing" in repeat.text


async def test_nobody_acknowledging_pages_oncall(oncall: OnCall) -> None:
    """After escalate_after unacknowledged, on-call is mentioned in the thread and DMed."""
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=14)
    await oncall.tick_and_deliver()
    [message] = oncall.posts()
    assert oncall.replies(message) == []
    oncall.clock.advance(minutes=1)
    report = await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert report.escalated == [alert.id]
    [page] = oncall.replies(message)
    assert "<@U0ALICE>" in block_text(page)
    [dm] = oncall.dms("U0ALICE")
    assert "nobody has acknowledged" in block_text(dm)


async def test_the_condition_clearing_resolves_the_alert(oncall: OnCall) -> None:
    """Once no matching error is left in the window, the alert resolves and says so."""
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=14)
    await oncall.tick_and_deliver()
    assert (await oncall.alerts())[0].status == "firing"
    oncall.clock.advance(minutes=2)
    report = await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert report.resolved == [alert.id]
    assert (alert.status, alert.open_key, alert.resolved_by) == ("resolved", None, None)
    [message] = oncall.posts()
    assert "Resolved automatically" in block_text(message)
    assert "Acknowledge" not in block_text(message)
    assert any("Resolved" in reply.text for reply in oncall.replies(message))


async def test_a_refire_after_resolve_is_a_new_alert(oncall: OnCall) -> None:
    """The same error coming back after the resolution opens a second alert and message."""
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=16)
    await oncall.tick_and_deliver()
    oncall.clock.advance(minutes=5)
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    first, second = await oncall.alerts()
    assert (first.status, second.status) == ("resolved", "firing")
    assert first.fingerprint == second.fingerprint
    assert second.count == 5
    assert len(oncall.posts()) == 2


async def test_a_different_error_is_a_different_alert(oncall: OnCall) -> None:
    """Two fingerprints in the window make two alerts, each with its own message."""
    await oncall.fail(times=5)
    await oncall.fail("permission denied for order_lookup", times=5)
    await oncall.tick_and_deliver()
    assert len(await oncall.alerts()) == 2
    assert len(oncall.posts(ONCALL_CHANNEL)) == 2


async def test_a_tick_run_twice_changes_nothing(oncall: OnCall) -> None:
    """Evaluating again at the same time adds no row, count or message."""
    await oncall.fail(times=6)
    await oncall.tick()
    rows = len(await oncall.outbox())
    again = await oncall.tick()
    assert (again.opened, again.updated) == ([], [])
    assert len(await oncall.outbox()) == rows
    [alert] = await oncall.alerts()
    assert alert.count == 6


async def test_a_slack_outage_loses_nothing_and_posts_nothing_twice(oncall: OnCall) -> None:
    """Slack down while the alert fires, counts and escalates: once back, one message each."""
    oncall.emulator.down = True
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    for _ in range(4):
        oncall.clock.advance(minutes=5)
        await oncall.fail(times=2)
        await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    assert alert.escalated_at is not None
    assert oncall.posts() == []
    oncall.emulator.down = False
    for _ in range(6):
        oncall.clock.advance(minutes=10)
        await oncall.deliver()
    [message] = oncall.posts()
    assert "*Count*\n13" in block_text(message)
    [page] = oncall.replies(message)
    assert "<@U0ALICE>" in block_text(page)
    assert len(oncall.dms("U0ALICE")) == 1
    assert [a.id for a in await oncall.alerts()] == [alert.id]
    assert {row.status for row in await oncall.outbox()} == {"done"}
