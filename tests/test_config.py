"""workflows.yml: a good file loads; a bad one lists every problem with its place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import String

from bot.app import build_services
from bot.settings import Settings
from store.models import Handoff
from workflows.config.brief import MAX_STOP_TOPIC_LENGTH, load_config, parse_config
from workflows.errors import ConfigError

EXAMPLE = Path(__file__).parent.parent / "workflows.example.yml"


def problems_of(data: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


def test_the_shipped_example_loads() -> None:
    """workflows.example.yml is valid and its durations are parsed."""
    config = load_config(EXAMPLE)
    triage = config.workflows["ticket-triage"]
    assert triage.review_timeout == timedelta(hours=2)
    assert triage.alerts.repeated_error.window == timedelta(minutes=15)
    assert "emails" in triage.personal_data_kinds


def test_each_problem_names_workflow_field_and_reason() -> None:
    """Two bad fields give two lines, each naming the workflow and the field."""
    problems = problems_of({"workflows": {"triage": {"confidence_threshold": 1.5, "mode": "yolo"}}})
    assert len(problems) == 2
    assert any("workflow 'triage', field 'confidence_threshold'" in p for p in problems)
    assert any("workflow 'triage', field 'mode'" in p for p in problems)


def test_a_bad_duration_names_the_rule() -> None:
    """A duration without a unit points at the alert rule field."""
    problems = problems_of(
        {"workflows": {"triage": {"alerts": {"repeated_error": {"window": "soon"}}}}}
    )
    assert "field 'alerts.repeated_error.window'" in problems[0]
    assert "15m" in problems[0]


def test_a_bad_custom_pattern_is_reported() -> None:
    """A custom redaction regex that does not compile stops start-up."""
    problems = problems_of(
        {"workflows": {"triage": {"redact": [{"name": "ref", "pattern": "INV-("}]}}}
    )
    assert "field 'redact.0'" in problems[0]
    assert "does not compile" in problems[0]


def test_a_custom_pattern_matching_nothing_is_reported() -> None:
    """A custom pattern that matches the empty string would redact everywhere; it is refused."""
    problems = problems_of(
        {"workflows": {"triage": {"redact": [{"name": "ref", "pattern": "x*"}]}}}
    )
    assert "field 'redact.0'" in problems[0]


def test_unknown_fields_are_rejected() -> None:
    """A misspelt field is a problem, not silently ignored."""
    problems = problems_of({"workflows": {"triage": {"reviewer": ["U1"]}}})
    assert "field 'reviewer'" in problems[0]


def test_slack_ids_are_checked() -> None:
    """A reviewer that is not a Slack user or usergroup ID is refused."""
    problems = problems_of({"workflows": {"triage": {"reviewers": ["alice"]}}})
    assert "field 'reviewers.0'" in problems[0]


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    """A missing workflows.yml points at the example to copy."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "workflows.yml")
    assert "workflows.example.yml" in caught.value.message


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    """A file that is not YAML fails with the parser's position."""
    path = tmp_path / "workflows.yml"
    path.write_text("workflows: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "not valid YAML" in caught.value.message


def test_approval_actions_must_be_allowed() -> None:
    """require_approval may only name actions the workflow is allowed to take."""
    problems = problems_of(
        {"workflows": {"triage": {"allowed_actions": ["tag"], "require_approval": ["refund"]}}}
    )
    assert "refund" in problems[0]


def test_bad_names_are_reported_with_the_field_problems(tmp_path: Path) -> None:
    """A bad workflow name is listed beside another workflow's bad fields, one line each."""
    path = tmp_path / "workflows.yml"
    path.write_text("workflows:\n  bad name!: {}\n  Triage: {}\n  invoices:\n    mode: yolo\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith(f"{path}: workflow 'bad name!', its name: ")
    assert problems[1].startswith(f"{path}: workflow 'Triage', its name: ")
    assert "lowercase letters" in problems[1]
    assert f"{path}: workflow 'invoices', field 'mode'" in problems[2]


def callback_file(tmp_path: Path, invoices_secret_env: str | None) -> Path:
    """Two workflows pushing decisions; ``invoices`` names its secret variable or not."""
    path = tmp_path / "workflows.yml"
    invoices_secret = (
        f"    callback_secret_env: {invoices_secret_env}\n" if invoices_secret_env else ""
    )
    path.write_text(
        "workflows:\n"
        "  triage:\n"
        "    callback_url: https://automation.internal/triage\n"
        "    callback_secret_env: TRIAGE_CALLBACK_SECRET\n"
        "  invoices:\n"
        "    callback_url: https://automation.internal/invoices\n" + invoices_secret
    )
    return path


def test_a_callback_needs_its_secret_variable(tmp_path: Path) -> None:
    """callback_url without callback_secret_env stops start-up: nothing could be signed."""
    with pytest.raises(ConfigError) as caught:
        load_config(callback_file(tmp_path, None), environ={"TRIAGE_CALLBACK_SECRET": "whsec-1"})
    [problem] = caught.value.problems
    assert "workflow 'invoices', field 'callback_secret_env'" in problem
    assert "required with callback_url" in problem


def test_an_unset_callback_secret_stops_start_up(tmp_path: Path) -> None:
    """The variable callback_secret_env names must be set at start; it is named, never shown."""
    path = callback_file(tmp_path, "INVOICES_CALLBACK_SECRET")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"TRIAGE_CALLBACK_SECRET": "whsec-1"})
    [problem] = caught.value.problems
    assert "workflow 'invoices', field 'callback_secret_env'" in problem
    assert "INVOICES_CALLBACK_SECRET is not set" in problem
    assert "whsec-1" not in caught.value.message


def test_an_empty_callback_secret_counts_as_unset(tmp_path: Path) -> None:
    """An empty variable signs nothing, so it is refused like a missing one."""
    path = callback_file(tmp_path, "INVOICES_CALLBACK_SECRET")
    with pytest.raises(ConfigError) as caught:
        load_config(
            path, environ={"TRIAGE_CALLBACK_SECRET": "", "INVOICES_CALLBACK_SECRET": "whsec-2"}
        )
    [problem] = caught.value.problems
    assert "workflow 'triage', field 'callback_secret_env'" in problem


def test_set_callback_secrets_load(tmp_path: Path) -> None:
    """With every named variable set, callback workflows load."""
    path = callback_file(tmp_path, "INVOICES_CALLBACK_SECRET")
    config = load_config(
        path, environ={"TRIAGE_CALLBACK_SECRET": "whsec-1", "INVOICES_CALLBACK_SECRET": "whsec-2"}
    )
    assert config.workflows["invoices"].callback_secret_env == "INVOICES_CALLBACK_SECRET"


def test_review_mode_needs_reviewers_and_a_review_channel(tmp_path: Path) -> None:
    """A brief that sends every allowed action to review, with nobody and nowhere to review it,
    gives one line for each missing field."""
    path = tmp_path / "workflows.yml"
    path.write_text("workflows:\n  triage:\n    mode: review\n    allowed_actions: [tag]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    reviewers, channel = caught.value.problems
    assert "workflow 'triage', field 'reviewers'" in reviewers
    assert "mode review opens a handoff for every allowed action" in reviewers
    assert "workflow 'triage', field 'review_channel'" in channel


def test_required_approval_needs_reviewers(tmp_path: Path) -> None:
    """In auto mode, actions that require approval still need someone to approve them."""
    path = tmp_path / "workflows.yml"
    path.write_text(
        "workflows:\n"
        "  triage:\n"
        "    mode: auto\n"
        "    review_channel: C0REVIEW\n"
        "    allowed_actions: [tag, refund]\n"
        "    require_approval: [refund]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert "workflow 'triage', field 'reviewers'" in problem
    assert "require_approval opens a handoff for refund" in problem


def test_a_workflow_that_never_reviews_needs_no_reviewers() -> None:
    """Auto mode without required approvals, or no allowed actions at all, loads without them."""
    config = parse_config(
        {
            "workflows": {
                "auto": {"mode": "auto", "allowed_actions": ["tag"]},
                "ledger": {"mode": "review"},
            }
        }
    )
    assert set(config.workflows) == {"auto", "ledger"}


def test_a_blank_stop_topic_is_refused() -> None:
    """A blank stop topic would send every draft to review; it is refused at its place."""
    [problem] = problems_of({"workflows": {"triage": {"stop_topics": ["refund", "  "]}}})
    assert "workflow 'triage', field 'stop_topics.1'" in problem
    assert "matches every draft" in problem


def test_a_stop_topic_over_200_characters_is_refused() -> None:
    """A stop topic longer than the handoff column that stores it stops start-up at its place."""
    topic = "refund " + "x" * 194
    [problem] = problems_of({"workflows": {"triage": {"stop_topics": ["legal", topic]}}})
    assert "workflow 'triage', field 'stop_topics.1'" in problem
    assert "at most 200 characters; this one is 201" in problem
    assert "\n" not in problem


def test_the_stop_topic_limit_is_the_width_of_its_column() -> None:
    """The config's limit is the width of handoffs.stop_topic, so a matched topic always fits."""
    column = Handoff.__table__.c.stop_topic.type
    assert isinstance(column, String)
    assert column.length == MAX_STOP_TOPIC_LENGTH


def test_custom_pattern_names_must_differ(tmp_path: Path) -> None:
    """Two custom redaction patterns with one name stop start-up with a line, not a traceback."""
    path = tmp_path / "workflows.yml"
    path.write_text(
        "workflows:\n"
        "  invoices:\n"
        "    redact:\n"
        "      - {name: ref, pattern: 'INV-[0-9]{6}'}\n"
        "      - {name: ref, pattern: 'PO-[0-9]{6}'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        build_services(Settings(HANDRAIL_CONFIG=path))
    [problem] = caught.value.problems
    assert "workflow 'invoices', field 'redact'" in problem
    assert "custom pattern names repeat: ref" in problem


def quorum_workflow(**fields: object) -> dict[str, object]:
    triage = {
        "reviewers": ["U0ALICE", "U0BOB"],
        "review_channel": "C0REVIEW",
        "allowed_actions": ["refund"],
        "require_approval": ["refund"],
        **fields,
    }
    return {"workflows": {"triage": triage}}


def test_a_quorum_larger_than_the_reviewers_is_refused_with_the_fix() -> None:
    """Three approvers from two named reviewers: one line saying how to fix it."""
    [problem] = problems_of(quorum_workflow(approvals={"refund": {"required": 3}}))
    assert problem == (
        "workflows.yml: workflow 'triage', field 'approvals.refund.required': needs 3 "
        "distinct approvers but reviewers lists 2: add reviewers or lower required"
    )


def test_a_quorum_with_more_usergroups_than_required_is_refused() -> None:
    """Each usergroup in from needs an approver of its own, so required must cover them."""
    rule = {"required": 1, "from": ["S0FINANCE", "S0SUPPORT"]}
    problems = problems_of(
        quorum_workflow(reviewers=["S0FINANCE", "S0SUPPORT"], approvals={"refund": rule})
    )
    assert problems == [
        "workflows.yml: workflow 'triage', field 'approvals.refund.required': is 1 but from "
        "lists 2 usergroups, each needing an approver of its own: set required to at least 2"
    ]


def test_a_quorum_usergroup_must_be_among_the_reviewers() -> None:
    """Members of a usergroup that is not a reviewer could never click Approve."""
    rule = {"required": 2, "from": ["S0FINANCE"]}
    [problem] = problems_of(quorum_workflow(approvals={"refund": rule}))
    assert "S0FINANCE not in reviewers" in problem


def test_a_quorum_of_zero_is_refused() -> None:
    """required counts approvers, at least one."""
    [problem] = problems_of(quorum_workflow(approvals={"refund": {"required": 0}}))
    assert "approvals.refund.required" in problem


def test_a_quorum_over_usergroups_loads() -> None:
    """Two approvers, one from each of two reviewer usergroups, is a valid brief."""
    rule = {"required": 2, "from": ["S0FINANCE", "S0SUPPORT"]}
    config = parse_config(
        quorum_workflow(reviewers=["S0FINANCE", "S0SUPPORT"], approvals={"refund": rule})
    )
    loaded = config.workflows["triage"].approvals["refund"]
    assert (loaded.required, loaded.from_) == (2, ["S0FINANCE", "S0SUPPORT"])
