"""Alert messages: the one message per alert, its thread replies, reminders about tokens
and handoffs. Pure functions from views to Block Kit; every untrusted string is escaped.

The alert message carries its buttons while the alert is open (Acknowledge only while it
is firing; Pause workflow only while the workflow runs) and none once resolved, so a late
click has nothing to press; a stale client that clicks anyway gets a private answer from
the handler.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from handlers.blocks._parts import (
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    Message,
    build_message,
    clock,
    code_section,
    context,
    duration,
    inline,
    mention,
    mrkdwn,
    pause_banner,
    plain,
    section,
    trace_button,
)
from handlers.ids import ActionId
from workflows.alerts.views import AlertView

#: Snooze choices as the menu shows them; values are ``<alert id>|<choice>``.
SNOOZE_LABELS = {"30m": "30 minutes", "1h": "1 hour", "4h": "4 hours", "24h": "24 hours"}
_SAMPLE_WHERE = "every occurrence is in full in its run's trace"


def group_mention(entry: str) -> str:
    """Mention a user (``<@U…>``) or a usergroup (``<!subteam^S…>``) from a role entry."""
    if entry[:1] == "S" and entry.isalnum():
        return f"<!subteam^{entry}>"
    return mention(entry)


def alert_message(view: AlertView) -> Message:
    """The alert's message in its current state: firing, acknowledged, snoozed or resolved."""
    blocks: list[Block] = [_header(view)]
    if view.paused and view.is_open:
        blocks.append(section(":double_vertical_bar: " + pause_banner(view.paused)))
    blocks.append(section(f"*{inline(view.title, 500)}*"))
    blocks.append(_facts(view))
    if view.sample:
        blocks.extend(code_section("Latest", view.sample, what="text", whole_note=_SAMPLE_WHERE))
    if view.last_run_id:
        run = f"Latest run `{inline(view.last_run_id, 300)}`"
        blocks.append(section(run, accessory=trace_button(view.last_run_id)))
    blocks.append(context(state_line(view)))
    if view.is_open:
        blocks.append(alert_buttons(view))
    return build_message(_fallback(view), blocks)


def state_line(view: AlertView) -> str:
    """Where the alert stands, in one line of mrkdwn."""
    if not view.is_open:
        when = clock(view.resolved_at) if view.resolved_at else "just now"
        if view.resolved_by:
            return f":white_check_mark: Resolved by {mention(view.resolved_by)} at {when}"
        return f":white_check_mark: Resolved automatically at {when}: the condition cleared"
    parts = []
    if view.acknowledged_by:
        at = clock(view.acknowledged_at) if view.acknowledged_at else ""
        parts.append(f":eyes: Acknowledged by {mention(view.acknowledged_by)} at {at}")
    else:
        parts.append(":rotating_light: Firing, not acknowledged")
    if view.snoozed_until:
        by = f" by {mention(view.snoozed_by)}" if view.snoozed_by else ""
        parts.append(f":zzz: snoozed until {clock(view.snoozed_until)}{by}")
    if view.escalated_at and not view.acknowledged_by:
        parts.append(f":mega: on-call paged at {clock(view.escalated_at)}")
    if view.clear_since:
        parts.append(f"clear since {clock(view.clear_since)}")
    return " · ".join(parts)


def alert_buttons(view: AlertView) -> ActionsBlock:
    """Acknowledge (while firing), Snooze, Resolve and Pause workflow (while it runs)."""
    elements: list[ButtonElement | StaticSelectElement] = []
    if view.status == "firing":
        elements.append(
            ButtonElement(
                text="Acknowledge",
                action_id=ActionId.ALERT_ACKNOWLEDGE.value,
                value=view.id,
                style="primary",
            )
        )
    elements.append(
        StaticSelectElement(
            placeholder="Snooze…",
            action_id=ActionId.ALERT_SNOOZE.value,
            options=[
                Option(text=label, value=f"{view.id}|{choice}")
                for choice, label in SNOOZE_LABELS.items()
            ],
        )
    )
    elements.append(
        ButtonElement(text="Resolve", action_id=ActionId.ALERT_RESOLVE.value, value=view.id)
    )
    if not view.paused:
        workflow = plain(view.workflow, 60)
        elements.append(
            ButtonElement(
                text="Pause workflow",
                action_id=ActionId.ALERT_PAUSE_WORKFLOW.value,
                value=view.id,
                style="danger",
                confirm=ConfirmObject(
                    title=f"Pause {plain(view.workflow, 84)}?",
                    text=(
                        f"Gates of {workflow} will deny, decisions will be held and nothing "
                        "goes out until an admin resumes it."
                    ),
                    confirm="Pause",
                    deny="Cancel",
                    style="danger",
                ),
            )
        )
    return ActionsBlock(elements=elements)


def alert_repeat_reply(view: AlertView) -> Message:
    """The reminder in the alert's thread while it keeps firing unacknowledged."""
    text = (
        f":repeat: Still firing: {view.count:,} time(s) since {clock(view.first_seen)}, "
        f"last at {clock(view.last_seen, since=view.first_seen)}. Acknowledge it to stop "
        "these reminders, or snooze it."
    )
    return build_message(_cut(text), [section(text)])


def alert_escalation(view: AlertView, oncall: Sequence[str]) -> Message:
    """The page to on-call: in the alert's thread and, the same, in each person's DM."""
    mentions = " ".join(group_mention(entry) for entry in oncall) or "On-call"
    waited = duration(view.escalated_at - view.created_at) if view.escalated_at else "a while"
    headline = (
        f":mega: {mentions}: nobody has acknowledged this alert for {waited}. "
        f"*{inline(view.rule_label, 60)} · {inline(view.workflow, 80)}*"
    )
    blocks: list[Block] = [section(headline), section(f"*{inline(view.title, 500)}*")]
    facts = f"{view.count:,} time(s) since {clock(view.first_seen)}"
    if view.threshold:
        facts += f" · threshold: {inline(view.threshold, 300)}"
    blocks.append(context(facts))
    if view.last_run_id:
        run = f"Latest run `{inline(view.last_run_id, 300)}`"
        blocks.append(section(run, accessory=trace_button(view.last_run_id)))
    if view.is_open:
        blocks.append(alert_buttons(view))
    text = f"On-call: {view.rule_label} in {view.workflow} not acknowledged for {waited}"
    return build_message(_cut(inline(text, FALLBACK_TEXT_MAX)), blocks)


def alert_resolved_reply(view: AlertView) -> Message:
    """The resolution, said in the thread (a notification, unlike the in-place update)."""
    line = state_line(view) if not view.is_open else ":white_check_mark: Resolved"
    text = f"{line}. It fired {view.count:,} time(s) from {clock(view.first_seen)}."
    if not view.resolved_by:
        text += " If it starts again, a new alert is posted."
    return build_message(_cut(text), [section(text)])


def handoff_reminder(
    *,
    workflow: str,
    kind_label: str,
    summary: str,
    opened_at: datetime,
    expires_at: datetime | None,
    reviewers: Sequence[str],
) -> Message:
    """The nudge in a handoff's thread: the reviewers, how long it waited, when it expires."""
    mentions = " ".join(group_mention(entry) for entry in reviewers) or "Reviewers"
    text = (
        f":hourglass_flowing_sand: {mentions}: this {inline(kind_label.lower(), 60)} in "
        f"{inline(workflow, 80)} has waited since {clock(opened_at)} for a decision."
    )
    if expires_at is not None:
        text += f" It expires unapproved at {clock(expires_at, since=opened_at)}."
    blocks: list[Block] = [section(text)]
    if summary.strip():
        blocks.append(context(inline(summary, 500)))
    return build_message(_cut(f"Waiting for a decision: {inline(summary, 200)}"), blocks)


def credential_reminder(
    *,
    workflow: str,
    prefix: str,
    label: str | None,
    reason: str,
    created_at: datetime,
    expires_at: datetime | None,
    rotate_after: str,
) -> Message:
    """A reminder to admins that a token expires soon or is due for rotation."""
    name = f"`{inline(prefix, 40)}`" + (f" ({inline(label, 100)})" if label else "")
    where = inline(workflow, 80)
    if reason == "expiring" and expires_at is not None:
        why = f"expires at {clock(expires_at)}"
    else:
        why = f"was created on {created_at:%Y-%m-%d}, more than {inline(rotate_after, 40)} ago"
    head = f":key: The token {name} of *{where}* {why}."
    how = (
        f"Rotate it: `handrail token create {where}`, move the automation to the new token, "
        f"then `handrail token revoke {inline(prefix, 40)}`."
    )
    return build_message(_cut(f"Token {prefix} of {workflow} {why}"), [section(head), context(how)])


def _header(view: AlertView) -> HeaderBlock:
    icon = ":white_check_mark:" if not view.is_open else ":rotating_light:"
    if view.is_open and view.acknowledged_by:
        icon = ":eyes:"
    label = f"{icon} {view.rule_label} · "
    return HeaderBlock(text=label + plain(view.workflow, HEADER_TEXT_MAX - len(label)))


def _facts(view: AlertView) -> SectionBlock:
    since = view.first_seen
    fields = [
        mrkdwn(f"*Rule*\n{inline(view.rule_label, 100)}"),
        mrkdwn(f"*Threshold*\n{inline(view.threshold or '—', 500)}"),
        mrkdwn(f"*Count*\n{view.count:,}"),
        mrkdwn(f"*First seen*\n{clock(view.first_seen)}"),
        mrkdwn(f"*Last seen*\n{clock(view.last_seen, since=since)}"),
    ]
    return SectionBlock(fields=fields)


def _fallback(view: AlertView) -> str:
    state = "Resolved" if not view.is_open else "Alert"
    start = f"{state} · {view.rule_label} · {inline(view.workflow, 80)}"
    room = FALLBACK_TEXT_MAX - len(start) - 2
    return f"{start}: {inline(view.title, room)}" if room > 10 else start


def _cut(text: str) -> str:
    return text if len(text) <= FALLBACK_TEXT_MAX else text[: FALLBACK_TEXT_MAX - 1] + "…"
