"""The alert and digest builders: escaped, inside Slack's limits, buttons only while open."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers.blocks.alerts import alert_escalation, alert_message
from handlers.blocks.digest import digest_message
from workflows.alerts.views import AlertView
from workflows.digest.review import Digest, FailureGroup, ReviewNumbers
from workflows.policy import PauseState

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
VIEW = AlertView(
    id="alr_1",
    workflow="ticket-triage",
    rule="repeated_error",
    status="firing",
    title="timeout after 30 s for invoice 123",
    threshold="5 in 15 min",
    count=5,
    first_seen=AT,
    last_seen=AT + timedelta(minutes=3),
    last_run_id="run_1",
    sample="timeout after 30 s for invoice 123",
    created_at=AT,
    snoozed_until=None,
    snoozed_by=None,
    acknowledged_by=None,
    acknowledged_at=None,
    escalated_at=None,
    resolved_at=None,
    resolved_by=None,
    clear_since=None,
    details={},
    paused=None,
)


def actions_of(blocks: list[dict[str, object]]) -> list[str]:
    return [
        str(element["action_id"])
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]  # type: ignore[attr-defined]
    ]


def test_an_error_text_cannot_mention_anyone() -> None:
    """``<!channel>`` and ``<@U1>`` in an automation's error are shown, never sent as mentions."""
    hostile = replace(VIEW, title="boom <!channel> <@U0BOSS>", sample="<!here> & more")
    text = str(alert_message(hostile).blocks)
    for mention in ("<!channel>", "<@U0BOSS>", "<!here>"):
        assert mention not in text
    assert "&lt;!channel&gt;" in text


def test_a_huge_sample_stays_inside_the_limits() -> None:
    """A 50,000-character stack trace is cut, and the message still validates."""
    message = alert_message(replace(VIEW, sample="frame\n" * 10_000, title="x" * 5000))
    assert "cut at" in str(message.blocks)


def test_buttons_follow_the_state() -> None:
    """Firing: all four; acknowledged: no Acknowledge; paused: no Pause; resolved: none."""
    assert actions_of(alert_message(VIEW).blocks) == [
        "alert-acknowledge",
        "alert-snooze",
        "alert-resolve",
        "alert-pause-workflow",
    ]
    acked = replace(VIEW, status="acknowledged", acknowledged_by="U0ALICE", acknowledged_at=AT)
    assert "alert-acknowledge" not in actions_of(alert_message(acked).blocks)
    paused = replace(VIEW, paused=PauseState("U0ALICE", "bad drafts"))
    assert "alert-pause-workflow" not in actions_of(alert_message(paused).blocks)
    resolved = replace(VIEW, status="resolved", resolved_at=AT)
    assert actions_of(alert_message(resolved).blocks) == []


def test_escalation_mentions_people_and_usergroups() -> None:
    """On-call user IDs become ``<@U…>``, usergroups ``<!subteam^S…>``."""
    paged = replace(VIEW, escalated_at=AT + timedelta(minutes=15))
    text = str(alert_escalation(paged, ["U0ALICE", "S0ONCALL"]).blocks)
    assert "<@U0ALICE> <!subteam^S0ONCALL>" in text
    assert "for 15 min" in text


def test_a_digest_with_many_error_groups_fits_one_message() -> None:
    """Forty kinds of failure show the first eight and say how many more there are."""
    groups = [
        FailureGroup(
            fingerprint=str(i),
            count=40 - i,
            sample=f"error {i}",
            latest_run_id="run_1",
            latest_at=AT,
        )
        for i in range(40)
    ]
    digest = Digest(
        workflow="ticket-triage",
        start=AT - timedelta(days=7),
        end=AT,
        runs=500,
        failed_runs=sum(g.count for g in groups),
        failures=groups,
        reviews=ReviewNumbers(),
        handoff_kinds=[],
        new_prompt_versions=[],
        earlier_prompt_versions=[],
        alerts=[],
    )
    message = digest_message(digest)
    assert len(message.blocks) <= 50
    assert "and 32 more error group(s)" in str(message.blocks)
