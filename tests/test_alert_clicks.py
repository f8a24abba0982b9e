"""Clicks on alert messages, signed as Slack signs them: who may, what changes, what is said.

In the test config ticket-triage has U0ALICE on call and U0OWNER as admin; U0BOB reviews
but is neither, so his clicks are refused.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.ids import ActionId
from store.models import Alert
from tests.alert_harness import OnCall, block_text
from workflows.pause.state import pause_state


async def firing(oncall: OnCall) -> Alert:
    """Five timeouts, one tick, delivered: the alert and its message exist."""
    await oncall.fail(times=5)
    await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    return alert


async def changed(oncall: OnCall, alert_id: str, field: str) -> Alert:
    """The alert once the detached click handler has set ``field``."""

    async def probe() -> Alert | None:
        alert = next(a for a in await oncall.alerts() if a.id == alert_id)
        return alert if getattr(alert, field) is not None else None

    found: Alert = await oncall.until(probe, what=f"alert {field}")
    return found


async def test_acknowledge_by_oncall_updates_the_message(oncall: OnCall) -> None:
    """On-call acknowledges: the alert says who, and the Acknowledge button is gone."""
    alert = await firing(oncall)
    response = await oncall.click(ActionId.ALERT_ACKNOWLEDGE, alert.id, user="U0ALICE")
    assert (response.status, response.text) == (200, "")
    acked = await changed(oncall, alert.id, "acknowledged_by")
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "U0ALICE")
    await oncall.deliver()
    [message] = oncall.posts()
    assert "Acknowledged by <@U0ALICE>" in block_text(message)
    assert "alert-acknowledge" not in str(message.blocks)


async def test_acknowledge_stops_escalation(oncall: OnCall) -> None:
    """An acknowledged alert pages nobody, however long it keeps firing."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_ACKNOWLEDGE, alert.id, user="U0ALICE")
    await changed(oncall, alert.id, "acknowledged_by")
    for _ in range(10):
        oncall.clock.advance(minutes=30)
        await oncall.fail()
        report = await oncall.tick_and_deliver()
        assert (report.escalated, report.repeated) == ([], [])
    [message] = oncall.posts()
    assert oncall.replies(message) == []
    assert oncall.dms("U0ALICE") == []


async def test_snooze_mutes_until_its_end(oncall: OnCall) -> None:
    """Snoozed for 30 min, the alert pages nobody; at the end, unacknowledged, it escalates."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_SNOOZE, alert.id, user="U0OWNER", value=f"{alert.id}|30m")
    snoozed = await changed(oncall, alert.id, "snoozed_until")
    assert snoozed.snoozed_until == oncall.clock() + timedelta(minutes=30)
    assert (snoozed.snoozed_by, snoozed.status) == ("U0OWNER", "firing")
    oncall.clock.advance(minutes=29)
    await oncall.fail()
    report = await oncall.tick_and_deliver()
    assert report.escalated == []
    [message] = oncall.posts()
    assert "snoozed until" in block_text(message)
    assert oncall.replies(message) == []
    oncall.clock.advance(minutes=2)
    await oncall.fail()
    report = await oncall.tick_and_deliver()
    assert (report.snooze_ended, report.escalated) == ([alert.id], [alert.id])
    [page] = oncall.replies(message)
    assert "<@U0ALICE>" in block_text(page)
    assert "snoozed until" not in block_text(oncall.posts()[0])


async def test_snooze_is_never_forever(oncall: OnCall) -> None:
    """A forged menu value outside the four durations is refused privately."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_SNOOZE, alert.id, user="U0ALICE", value=f"{alert.id}|forever")
    notice = await oncall.slack.ephemeral_to("U0ALICE")
    assert "never muted for ever" in notice.text
    [again] = await oncall.alerts()
    assert again.snoozed_until is None


async def test_resolve_by_hand_is_said_in_the_thread(oncall: OnCall) -> None:
    """Resolve closes the alert, names who did it, and removes the buttons."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_RESOLVE, alert.id, user="U0OWNER")
    resolved = await changed(oncall, alert.id, "resolved_at")
    assert (resolved.status, resolved.resolved_by, resolved.open_key) == (
        "resolved",
        "U0OWNER",
        None,
    )
    await oncall.deliver()
    [message] = oncall.posts()
    assert "Resolved by <@U0OWNER>" in block_text(message)
    assert "actions" not in [block["type"] for block in message.blocks]
    [reply] = oncall.replies(message)
    assert "Resolved by <@U0OWNER>" in block_text(reply)


async def test_an_outsider_is_refused_and_nothing_changes(oncall: OnCall) -> None:
    """A reviewer who is not on call or admin gets a private refusal; the alert stays as it was."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_SNOOZE, alert.id, user="U0BOB", value=f"{alert.id}|4h")
    notice = await oncall.slack.ephemeral_to("U0BOB")
    assert notice.text.startswith(
        "Permission denied: <@U0BOB> is not an oncall or admin of ticket-triage"
    )
    [same] = await oncall.alerts()
    assert (same.status, same.snoozed_until, same.snoozed_by) == ("firing", None, None)


async def test_a_click_on_a_resolved_alert_changes_nothing(oncall: OnCall) -> None:
    """A stale client clicking Acknowledge on a resolved alert is told who resolved it."""
    alert = await firing(oncall)
    oncall.clock.advance(minutes=16)
    await oncall.tick_and_deliver()
    await oncall.slack.driver.click(
        action_id=ActionId.ALERT_ACKNOWLEDGE,
        user="U0ALICE",
        channel="C0ONCALL",
        message_ts=await oncall.alert_ts(alert.id),
        value=alert.id,
        block_id="stale-actions",
    )
    notice = await oncall.slack.ephemeral_to("U0ALICE")
    assert notice.text.startswith("This alert was already resolved automatically at")
    [same] = await oncall.alerts()
    assert (same.status, same.acknowledged_by) == ("resolved", None)


async def test_a_second_acknowledge_is_told_who_was_first(oncall: OnCall) -> None:
    """The admin acknowledging after on-call did is told so; the first stays on record."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_ACKNOWLEDGE, alert.id, user="U0ALICE")
    await changed(oncall, alert.id, "acknowledged_by")
    await oncall.slack.driver.click(
        action_id=ActionId.ALERT_ACKNOWLEDGE,
        user="U0OWNER",
        channel="C0ONCALL",
        message_ts=await oncall.alert_ts(alert.id),
        value=alert.id,
        block_id="stale-actions",
    )
    notice = await oncall.slack.ephemeral_to("U0OWNER")
    assert notice.text.startswith("This alert was already acknowledged by <@U0ALICE>")
    [same] = await oncall.alerts()
    assert same.acknowledged_by == "U0ALICE"


async def test_pause_workflow_from_the_alert(oncall: OnCall) -> None:
    """Pause workflow throws the pause switch; the alert message shows the banner instead."""
    alert = await firing(oncall)
    await oncall.click(ActionId.ALERT_PAUSE_WORKFLOW, alert.id, user="U0ALICE")

    async def paused() -> object:
        async with oncall.services.readers() as db:
            return await pause_state(db, "ticket-triage")

    state = await oncall.until(paused, what="the pause")
    assert state.paused_by == "U0ALICE"
    await oncall.deliver()
    message = oncall.posts()[0]
    assert "Paused by <@U0ALICE>" in block_text(message)
    assert "alert-pause-workflow" not in str(message.blocks)


async def test_pause_from_an_alert_never_pings_a_user_named_in_the_error(oncall: OnCall) -> None:
    """An error reading ``<@U0EVE>`` becomes no mention in any message the pause sends."""
    _, handoff_id = await oncall.slack.open_review()
    await oncall.fail("db down <@U0EVE>", times=5)
    await oncall.tick_and_deliver()
    [alert] = await oncall.alerts()
    oncall.emulator.clear_calls()
    await oncall.click(ActionId.ALERT_PAUSE_WORKFLOW, alert.id, user="U0ALICE")

    async def paused() -> object:
        async with oncall.services.readers() as db:
            return await pause_state(db, "ticket-triage")

    state = await oncall.until(paused, what="the pause")
    assert "<@U0EVE>" in (state.reason or "")
    await oncall.deliver()
    sent = [c for c in oncall.emulator.calls if c.method.startswith("chat.")]
    updated = {c.body["ts"] for c in sent if c.method == "chat.update"}
    assert updated >= {await oncall.alert_ts(alert.id), oncall.slack.posted(handoff_id).ts}
    [notice] = [c for c in sent if c.method == "chat.postMessage"]
    assert "paused" in str(notice.body)
    for call in sent:
        body = str(call.body)
        assert "<@U0EVE>" not in body, (call.method, body)
        assert "<@U0ALICE>" in body or call.method != "chat.update", (call.method, body)
