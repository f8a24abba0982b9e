"""The pure Block Kit builders: what each handoff shows, what it offers, and what it refuses."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from handlers.blocks import (
    PLAIN_TEXT_INPUT_MAX,
    REJECT_CATEGORIES,
    Message,
    decision_thread_reply,
    draft_part_message,
    edit_modal,
    escape_mrkdwn,
    handoff_message,
    reject_modal,
)
from handlers.blocks._parts import clock
from handlers.escape import cut_escaped
from handlers.ids import ActionId, BlockId, CallbackId, InputId
from workflows.ledger.views import (
    DRAFT_PART_CHARS,
    EDIT_BOX_MAX,
    DecisionView,
    HandoffView,
    draft_parts,
)
from workflows.policy import PauseState

OPENED = datetime(2024, 5, 1, 10, 38, tzinfo=UTC)
DECIDED = datetime(2024, 5, 1, 10, 42, 12, tzinfo=UTC)
HOSTILE = "Hi <!channel> & <@U1>, see <http://evil.example|bank.com> or <!subteam^S1> @here"

KIND_FIELDS: dict[str, dict[str, Any]] = {
    "draft": {"draft": "Thanks for writing in."},
    "low_confidence": {"confidence": 0.62, "threshold": 0.8, "draft": "Tagged as billing."},
    "stop_rule": {"stop_topic": "refund", "draft": "We will refund you."},
    "approval_required": {"action": "send_reply", "draft": "Your order shipped."},
    "tool_failure": {"tool": "order_lookup", "error": "timeout after 30 s", "last_step": "fetch"},
    "other": {},
}
KIND_REASONS = {
    "draft": "workflow is in review mode",
    "low_confidence": "confidence 0.62 &lt; 0.8",
    "stop_rule": 'stop topic "refund"',
    "approval_required": "action `send_reply` requires approval",
    "tool_failure": "tool `order_lookup` failed: timeout after 30 s",
    "other": "the automation asked for a person",
}


def make_view(**changes: Any) -> HandoffView:
    """A pending handoff of ticket-triage with nothing special, changed as asked."""
    base = HandoffView(
        id="01HANDOFF",
        workflow="ticket-triage",
        run_id="run-42",
        kind="draft",
        status="pending",
        summary="Customer asks where order 1234 is.",
        action=None,
        draft=None,
        confidence=None,
        threshold=None,
        stop_topic=None,
        tool=None,
        error=None,
        last_step=None,
        created_at=OPENED,
        paused=None,
        decision=None,
    )
    return dataclasses.replace(base, **changes)


def make_decision(**changes: Any) -> DecisionView:
    """An approval by U0ALICE four minutes after the handoff opened, changed as asked."""
    base = DecisionView(
        outcome="approved",
        reviewer="U0ALICE",
        decided_at=DECIDED,
        final_text=None,
        diff=None,
        reason=None,
        category=None,
        latency_ms=252_000,
    )
    return dataclasses.replace(base, **changes)


def kind_view(kind: str, **changes: Any) -> HandoffView:
    return make_view(kind=kind, **{**KIND_FIELDS[kind], **changes})


def decided(kind: str, outcome: str, **decision: Any) -> HandoffView:
    return kind_view(kind, status=outcome, decision=make_decision(outcome=outcome, **decision))


#: A date as ``handlers.blocks._parts.clock`` writes it; the group is its UTC fallback.
DATE_TOKEN = re.compile(r"<!date\^\d+\^(?:\{date_short_pretty\} )?\{time\}\|([0-9 :-]+ UTC)>")


def shown(payload: Message | dict[str, Any]) -> str:
    """The payload as JSON, minus button values (Slack never displays them) and with
    Handrail's own date tokens read as their fallback (they are built, never model output)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            hidden = node.get("type") == "button"
            return {k: strip(v) for k, v in node.items() if not (hidden and k == "value")}
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    body = payload.as_kwargs() if isinstance(payload, Message) else payload
    return DATE_TOKEN.sub(r"\1", json.dumps(strip(body), ensure_ascii=False))


def buttons(message: Message) -> list[dict[str, Any]]:
    """Every button in an actions block (the run line's Trace accessory is not one)."""
    return [el for b in message.blocks if b["type"] == "actions" for el in b["elements"]]


def section_texts(message: Message) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def context_texts(message: Message) -> list[str]:
    return [el["text"] for b in message.blocks if b["type"] == "context" for el in b["elements"]]


# -- what each kind shows and offers ---------------------------------------------------------


@pytest.mark.parametrize("kind", list(KIND_FIELDS))
def test_each_kind_lists_why_it_is_here(kind: str) -> None:
    """Each kind of handoff says under "Why it is here" what sent it to a person."""
    reasons = next(t for t in section_texts(handoff_message(kind_view(kind))) if "Why it" in t)
    assert f"• {KIND_REASONS[kind]}" in reasons


def test_every_reason_the_gate_gave_is_listed_escaped() -> None:
    """A handoff opened by the gate lists each of its reasons, escaped, not just its kind's."""
    gate_reasons = ('stop topic "refund"', "action 'send_reply' requires approval", "x <!here>")
    message = handoff_message(kind_view("stop_rule", gate_reasons=gate_reasons))
    reasons = next(t for t in section_texts(message) if "Why it" in t)
    assert reasons.splitlines()[1:] == [
        '• stop topic "refund"',
        "• action 'send_reply' requires approval",
        "• x &lt;!here&gt;",
    ]


def test_a_shadow_case_says_the_automation_will_not_act() -> None:
    """A shadow case is labelled in its header, banner and reasons, and keeps its buttons."""
    view = kind_view("stop_rule", shadow=True, gate_reasons=('stop topic "refund"',))
    message = handoff_message(view)
    assert message.blocks[0]["text"]["text"] == (
        "Shadow comparison · Stop rule hit · ticket-triage"
    )
    banner = section_texts(message)[0]
    assert banner.startswith(":ghost: *Shadow comparison: the automation will not act on your")
    reasons = next(t for t in section_texts(message) if "Why it" in t)
    assert "review mode" not in reasons
    assert reasons.splitlines()[1:] == [
        "• workflow is in shadow mode: posted to compare with the automation, not to act",
        '• stop topic "refund"',
    ]
    assert message.text.startswith("Shadow comparison · Stop rule hit · ticket-triage")
    assert [b["text"]["text"] for b in buttons(message)] == ["Approve", "Edit", "Reject"]


def test_a_decided_shadow_case_says_it_was_not_acted_on() -> None:
    """After a decision a shadow case's message and thread reply say nothing acts on it."""
    view = dataclasses.replace(decided("draft", "approved"), shadow=True)
    assert "shadow comparison: recorded, not acted on" in section_texts(handoff_message(view))[-1]
    assert any("not acted on" in t for t in context_texts(decision_thread_reply(view)))


def test_header_names_kind_and_workflow() -> None:
    """The header reads "<kind label> · <workflow>"."""
    header = handoff_message(kind_view("stop_rule")).blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Stop rule hit · ticket-triage"


@pytest.mark.parametrize("kind", ["draft", "low_confidence", "stop_rule", "approval_required"])
def test_pending_review_offers_approve_edit_reject(kind: str) -> None:
    """A pending case with a draft offers Approve (primary), Edit and Reject (danger)."""
    found = buttons(handoff_message(kind_view(kind)))
    assert [b["action_id"] for b in found] == [
        ActionId.HANDOFF_APPROVE,
        ActionId.HANDOFF_EDIT,
        ActionId.HANDOFF_REJECT,
    ]
    assert [b.get("style") for b in found] == ["primary", None, "danger"]
    assert {b["value"] for b in found} == {"01HANDOFF"}


def test_pending_case_without_draft_offers_no_edit() -> None:
    """With no draft there is nothing to edit, so only Approve and Reject are offered."""
    found = buttons(handoff_message(kind_view("other")))
    assert [b["action_id"] for b in found] == [ActionId.HANDOFF_APPROVE, ActionId.HANDOFF_REJECT]


def test_tool_failure_offers_take_over_and_retry() -> None:
    """A pending tool failure offers "I'll handle it" and Retry, carrying the handoff ID."""
    found = buttons(handoff_message(kind_view("tool_failure")))
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in found] == [
        (ActionId.HANDOFF_TAKE_OVER, "I'll handle it", "01HANDOFF"),
        (ActionId.HANDOFF_RETRY, "Retry", "01HANDOFF"),
    ]


def test_tool_failure_shows_error_tool_and_last_step() -> None:
    """A tool failure shows its error in a code block and the tool and last completed step."""
    message = handoff_message(kind_view("tool_failure"))
    assert "*Error*\n```\ntimeout after 30 s\n```" in section_texts(message)
    assert "Tool `order_lookup` · last completed step `fetch`" in context_texts(message)


def test_draft_is_shown_in_a_code_block() -> None:
    """The draft is shown verbatim in a code block so it reads exactly as it would go out."""
    assert "*Draft*\n```\nThanks for writing in.\n```" in section_texts(
        handoff_message(kind_view("draft"))
    )


def test_run_line_has_trace_button_with_run_id() -> None:
    """The run line names the run ID and carries a Trace button whose value is the run ID."""
    run = next(b for b in handoff_message(make_view()).blocks if "accessory" in b)
    assert "Run `run-42`" in run["text"]["text"]
    assert run["accessory"]["action_id"] == ActionId.TRACE_OPEN
    assert run["accessory"]["value"] == "run-42"


def test_paused_banner_keeps_the_pauser_mention_only() -> None:
    """The pause banner mentions who paused, but a typed <!here> in its reason stays inert."""
    message = handoff_message(make_view(paused=PauseState("U0OWNER", "bad <!here>")))
    banner = ":double_vertical_bar: Paused by <@U0OWNER>: bad &lt;!here&gt;. Decisions are"
    assert any(text.startswith(banner) for text in section_texts(message))


def test_paused_banner_never_turns_a_mention_in_the_reason_into_a_ping() -> None:
    """A ``<@U…>`` or ``<@W…>`` written in the pause reason stays escaped text."""
    reason = 'from the alert "db down <@U0EVE> <@W0MALLORY>"'
    message = handoff_message(make_view(paused=PauseState("U0OWNER", reason)))
    banner = next(t for t in section_texts(message) if t.startswith(":double_vertical_bar:"))
    assert "<@U0OWNER>" in banner
    assert "&lt;@U0EVE&gt; &lt;@W0MALLORY&gt;" in banner
    assert banner.count("<@") == 1


def test_paused_banner_shows_a_pauser_that_is_no_user_id_as_text() -> None:
    """A pauser such as ``api:<@U0EVE>`` is shown escaped, never as a mention."""
    message = handoff_message(make_view(paused=PauseState("api:<@U0EVE>", None)))
    banner = next(t for t in section_texts(message) if t.startswith(":double_vertical_bar:"))
    assert "<@" not in banner
    assert "Paused by api:&lt;@U0EVE&gt;." in banner


def test_fallback_text_names_kind_workflow_and_summary() -> None:
    """The notification text names the kind, the workflow and the start of the summary."""
    message = handoff_message(kind_view("draft"))
    assert message.text == "Draft for review · ticket-triage: Customer asks where order 1234 is."


# -- after a decision ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        ("draft", "approved"),
        ("draft", "edited"),
        ("stop_rule", "rejected"),
        ("tool_failure", "taken_over"),
        ("tool_failure", "retry_requested"),
    ],
)
def test_decided_message_has_no_buttons(kind: str, outcome: str) -> None:
    """Once decided, the message has no actions block, so nothing can be decided twice."""
    message = handoff_message(decided(kind, outcome, reason="because"))
    assert not [b for b in message.blocks if b["type"] == "actions"]


def test_approved_message_says_who_and_when() -> None:
    """An approved message ends with "Approved by <@reviewer> at" the time in Slack's date
    formatting (the reader's zone), with the UTC time as fallback."""
    line = section_texts(handoff_message(decided("draft", "approved")))[-1]
    assert line == (
        ":white_check_mark: Approved by <@U0ALICE> at <!date^1714560132^{time}|10:42 UTC>"
    )


def test_rejected_message_gives_the_reason() -> None:
    """A rejected message's outcome line carries the reviewer's reason."""
    line = section_texts(handoff_message(decided("draft", "rejected", reason="Wrong order")))[-1]
    assert line == ":x: Rejected by <@U0ALICE> at <!date^1714560132^{time}|10:42 UTC>: Wrong order"


def test_expired_message_says_not_approved_and_has_no_buttons() -> None:
    """An expired handoff says how long it waited and that expiry is not approval."""
    view = kind_view("draft", status="expired", expired_at=OPENED + timedelta(hours=2))
    message = handoff_message(view)
    assert section_texts(message)[-1] == (
        ":hourglass: Expired after 2 h with no decision — not approved"
    )
    assert not buttons(message)


def test_thread_reply_gives_reviewer_latency_reason_category_and_diff() -> None:
    """The thread reply records who decided, how long it took, why, and the edit diff."""
    view = decided(
        "draft",
        "rejected",
        reason="Promises a refund we do not give",
        category="policy",
        diff="--- draft\n+++ final\n-old\n+new",
    )
    reply = decision_thread_reply(view)
    text = "\n".join(section_texts(reply) + context_texts(reply))
    assert ":x: *Rejected* by <@U0ALICE>" in text
    assert (
        "Decided at <!date^1714560132^{date_short_pretty} {time}|2024-05-01 10:42 UTC>"
        " · review took 4 min 12 s · category: Against policy" in text
    )
    assert "*Reason*\nPromises a refund we do not give" in text
    assert "*What changed*\n```\n--- draft\n+++ final\n-old\n+new\n```" in text
    assert reply.text == "Rejected by <@U0ALICE> after 4 min 12 s"


# -- hostile and huge model output ----------------------------------------------------------


def test_model_output_cannot_mention_or_link() -> None:
    """Mentions, broadcasts and disguised links in model output come out escaped."""
    view = make_view(
        kind="tool_failure",
        workflow="ticket-triage",
        summary=HOSTILE,
        draft=HOSTILE,
        action=HOSTILE,
        stop_topic=HOSTILE,
        tool=HOSTILE,
        error=HOSTILE,
        last_step=HOSTILE,
        run_id=HOSTILE,
    )
    body = shown(handoff_message(view))
    assert "<" not in body
    assert ">" not in body
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in body
    assert "&lt;http://evil.example|bank.com&gt;" in body
    assert "@here" not in body


def test_decision_text_cannot_mention_or_link() -> None:
    """A reviewer's reason, category and diff are escaped like model output."""
    view = decided("draft", "edited", reason=HOSTILE, category=HOSTILE, diff=HOSTILE)
    for payload in (handoff_message(view), decision_thread_reply(view)):
        body = shown(payload).replace("<@U0ALICE>", "")
        assert "<" not in body
        assert "&lt;!subteam^S1&gt;" in body


def test_modals_escape_model_output() -> None:
    """The modals' description of the case escapes model output too."""
    view = make_view(summary=HOSTILE, workflow=HOSTILE, run_id=HOSTILE, draft="d")
    for modal in (edit_modal(view), reject_modal(view)):
        assert "<" not in json.dumps(modal["blocks"][0], ensure_ascii=False)


def test_huge_draft_is_cut_with_a_note() -> None:
    """A 50,000-character draft is cut to fit one section, with a note saying how much."""
    message = handoff_message(kind_view("draft", draft="x" * 50_000))
    draft = next(t for t in section_texts(message) if t.startswith("*Draft*"))
    assert len(draft) <= 3000
    assert draft.endswith("\n```")
    assert (
        "… draft cut at 2,984 of 50,000 characters; the whole draft is in this message's "
        "thread" in context_texts(message)
    )


def test_a_draft_too_long_to_edit_offers_approve_and_reject_only() -> None:
    """A draft over 3,000 characters has no Edit button, and the message says why."""
    message = handoff_message(kind_view("draft", draft="z" * 3_001))
    assert [b["action_id"] for b in buttons(message)] == [
        ActionId.HANDOFF_APPROVE,
        ActionId.HANDOFF_REJECT,
    ]
    assert any(
        t.startswith(":warning: Too long to edit in Slack (3,001") for t in (context_texts(message))
    )


def test_a_draft_longer_than_the_thread_takes_says_how_much_is_posted() -> None:
    """Past the thread's cap, the message says how many characters the thread holds."""
    message = handoff_message(kind_view("draft", draft="x" * 60_000))
    assert any(
        t.endswith("its first 50,000 characters are in this message's thread")
        for t in (context_texts(message))
    )


def unescape(text: str) -> str:
    return (
        text.replace("\u2060", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def thread_text(view: HandoffView) -> str:
    """The draft as the thread parts show it, code fences removed and unescaped."""
    assert view.draft is not None
    shown = ""
    for number in range(1, len(draft_parts(view.draft)) + 1):
        part = draft_part_message(view, number)
        assert_valid(part)
        for text in section_texts(part):
            shown += unescape(text.removeprefix("```\n").removesuffix("\n```"))
    return shown


def test_draft_parts_join_to_the_whole_draft_ending_at_line_breaks() -> None:
    """Parts hold at most 2,000 characters, end at a line break where one is near, and join."""
    draft = "".join(f"Line {n}: {'word ' * (n % 40)}\n" for n in range(600))
    parts = draft_parts(draft)
    assert "".join(parts) == draft
    assert all(len(part) <= DRAFT_PART_CHARS for part in parts)
    assert all(part.endswith("\n") for part in parts)


def test_thread_parts_show_the_draft_exactly_even_when_escaping_grows_it() -> None:
    """Every part fits one valid message, and together they read as the draft, escaped."""
    draft = ("a & b <!channel> ``` " * 50 + "\n") * 40 + "&" * 4_000
    assert thread_text(kind_view("draft", draft=draft)) == draft


def test_the_last_thread_part_says_what_was_not_posted() -> None:
    """Beyond 25 parts the last posted part says how many characters were left out."""
    view = kind_view("draft", draft="x" * 60_000)
    last = draft_part_message(view, 25)
    assert context_texts(last)[0] == "Draft, part 25 of 25 · characters 48,001 to 50,000 of 60,000"
    assert "goes on for 10,000 more characters, not posted" in context_texts(last)[-1]


def test_draft_that_fits_the_edit_box_points_to_edit() -> None:
    """A draft too long for a section but not for the edit box says Edit shows it whole."""
    message = handoff_message(kind_view("draft", draft="y" * 2999))
    assert any(t.endswith("Edit shows it whole") for t in context_texts(message))


def test_huge_escaped_error_is_cut_on_escaped_length() -> None:
    """A 50,000-character error of "&" (five times longer escaped) still fits, never mid-entity."""
    message = handoff_message(kind_view("tool_failure", error="&" * 50_000))
    error = next(t for t in section_texts(message) if t.startswith("*Error*"))
    assert len(error) <= 3000
    assert error.removeprefix("*Error*\n```\n").removesuffix("\n```").replace("&amp;", "") == ""
    assert any("error cut at 596 of 50,000 characters" in t for t in context_texts(message))


def test_huge_everything_still_builds() -> None:
    """Every untrusted field at 50,000 characters still yields valid messages and modals."""
    huge = "<!channel> & " * 4_000
    view = make_view(
        kind="tool_failure",
        workflow=huge,
        run_id=huge,
        summary=huge,
        draft=huge,
        action=huge,
        stop_topic=huge,
        tool=huge,
        error=huge,
        last_step=huge,
        paused=PauseState(huge, huge),
        gate_reasons=(huge,) * 40,
        shadow=True,
        status="rejected",
        decision=make_decision(outcome="rejected", reason=huge, category=huge, diff=huge),
    )
    assert_valid(handoff_message(view))
    assert_valid(decision_thread_reply(view))
    assert_valid(edit_modal(view))
    assert_valid(reject_modal(view))


def test_huge_diff_is_cut_with_a_note() -> None:
    """A long edit diff in the thread reply is cut to fit with a note."""
    reply = decision_thread_reply(decided("draft", "edited", diff="+line\n" * 10_000))
    assert any(t.startswith("… diff cut at") for t in context_texts(reply))


# -- modals ----------------------------------------------------------------------------------


def test_edit_modal_is_prefilled_with_the_draft() -> None:
    """The edit modal carries the handoff ID and a multiline box holding the whole draft."""
    draft = "Line one.\nLine two & <three>."
    modal = edit_modal(kind_view("draft", draft=draft))
    assert modal["callback_id"] == CallbackId.HANDOFF_EDIT_SUBMIT
    assert modal["private_metadata"] == "01HANDOFF"
    box = next(b for b in modal["blocks"] if b["type"] == "input")
    assert box["block_id"] == BlockId.EDIT_TEXT
    assert box["element"]["action_id"] == InputId.EDIT_TEXT
    assert box["element"]["multiline"] is True
    assert box["element"]["initial_value"] == draft


def test_edit_modal_of_a_draft_over_the_box_has_nothing_to_save() -> None:
    """A draft over 3,000 characters gets a modal that explains, with no box and no submit."""
    modal = edit_modal(kind_view("draft", draft="z" * 5_000))
    assert [b["type"] for b in modal["blocks"]] == ["context", "section"]
    assert "submit" not in modal
    text = modal["blocks"][1]["text"]["text"]
    assert "too long to edit in Slack" in text
    assert "It has 5,000 characters" in text
    assert "*Approve* or *Reject*" in text


def test_the_edit_box_limit_is_the_domains() -> None:
    """The builders' text box limit and the domain's idea of an editable draft agree."""
    assert PLAIN_TEXT_INPUT_MAX == EDIT_BOX_MAX


def test_reject_modal_requires_a_short_reason() -> None:
    """The reject modal asks for a required reason of at most 500 characters."""
    modal = reject_modal(kind_view("draft"))
    assert modal["callback_id"] == CallbackId.HANDOFF_REJECT_SUBMIT
    assert modal["private_metadata"] == "01HANDOFF"
    reason = next(b for b in modal["blocks"] if b.get("block_id") == BlockId.REJECT_REASON)
    assert reason.get("optional", False) is False
    assert reason["element"]["action_id"] == InputId.REJECT_REASON
    assert reason["element"]["max_length"] == 500


def test_reject_modal_offers_optional_categories() -> None:
    """The reject modal offers the five categories in an optional select."""
    modal = reject_modal(kind_view("draft"))
    category = next(b for b in modal["blocks"] if b.get("block_id") == BlockId.REJECT_CATEGORY)
    assert category["optional"] is True
    assert category["element"]["action_id"] == InputId.REJECT_CATEGORY
    values = [option["value"] for option in category["element"]["options"]]
    assert values == ["wrong_facts", "wrong_tone", "policy", "incomplete", "other"]
    assert list(REJECT_CATEGORIES) == values


# -- validation of everything ----------------------------------------------------------------


def assert_valid(payload: Message | dict[str, Any]) -> None:
    """Re-read the payload with slack_sdk's models and validate it, as a caller would."""
    if isinstance(payload, Message):
        assert payload.text
        assert 0 < len(payload.blocks) <= 50
        for block in payload.blocks:
            parsed = Block.parse(block)
            assert parsed is not None
            assert parsed.to_dict() == block
    else:
        assert View(**payload).to_dict() == payload


STATES = [
    kind_view(kind, status=status, decision=None if status in ("pending", "expired") else d)
    for kind in KIND_FIELDS
    for status, d in [
        ("pending", None),
        ("expired", None),
        ("approved", make_decision()),
        ("rejected", make_decision(outcome="rejected", reason="no", category="policy")),
    ]
]


@pytest.mark.parametrize("view", STATES, ids=lambda v: f"{v.kind}-{v.status}")
def test_every_builder_output_validates(view: HandoffView) -> None:
    """Every builder's output for every kind and state passes slack_sdk's validation."""
    assert_valid(handoff_message(view))
    assert_valid(decision_thread_reply(view))
    assert_valid(edit_modal(view))
    assert_valid(reject_modal(view))


# -- the pieces underneath -------------------------------------------------------------------


def test_escape_mrkdwn_escapes_slack_control_characters() -> None:
    """``&``, ``<`` and ``>`` become entities, ``&`` first so nothing is escaped twice."""
    assert escape_mrkdwn("a & <b> &lt;") == "a &amp; &lt;b&gt; &amp;lt;"


def test_escape_mrkdwn_defuses_literal_broadcast_words() -> None:
    """A literal @channel, @here or @everyone gets an invisible joiner after the "@"."""
    assert escape_mrkdwn("@Channel @here @everyone @heres") == (
        "@\u2060Channel @\u2060here @\u2060everyone @heres"
    )


def test_cut_never_splits_an_entity() -> None:
    """Cutting escaped text stops before an entity that would not fit whole."""
    cut = cut_escaped("a&b", 4)
    assert (cut.text, cut.shown, cut.total) == ("a", 1, 3)


def test_code_text_cannot_close_its_fence() -> None:
    """Backtick fences in text bound for a code block are broken by invisible joiners."""
    assert "```" not in cut_escaped("x ``` y", 100, code=True).text


def test_reasons_never_print_equal_scores() -> None:
    """A confidence just under the threshold is printed with enough places to differ."""
    view = make_view(kind="low_confidence", confidence=0.7999, threshold=0.8)
    assert view.reasons() == ["confidence 0.7999 < 0.8"]


def test_reasons_cut_a_long_tool_error_to_its_first_line() -> None:
    """The tool reason keeps the first line of the error; the full text is shown elsewhere."""
    view = make_view(kind="tool_failure", tool="crm", error="HTTP 502\nTraceback …")
    assert view.reasons() == ["tool `crm` failed: HTTP 502…"]


def test_times_use_slacks_date_formatting_with_a_utc_fallback() -> None:
    """A time is a ``<!date^…>`` token of the right instant, its fallback in UTC; a naive
    time counts as UTC, and an aware one in another zone is converted, never mislabelled."""
    moment = datetime(2024, 5, 1, 12, 42, 12, tzinfo=timezone(timedelta(hours=2)))
    assert clock(moment) == "<!date^1714560132^{date_short_pretty} {time}|2024-05-01 10:42 UTC>"
    assert clock(moment.astimezone(UTC).replace(tzinfo=None)) == clock(moment)
    same_day = clock(moment, since=datetime(2024, 5, 1, 0, 5, tzinfo=UTC))
    assert same_day == "<!date^1714560132^{time}|10:42 UTC>"
    next_day = clock(moment, since=datetime(2024, 4, 30, 23, 59, tzinfo=UTC))
    assert next_day.startswith("<!date^1714560132^{date_short_pretty} {time}|")
