"""Bad alert rule settings stop start-up with a line naming the workflow, the rule and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.app import build_services
from bot.settings import Settings
from workflows.config.brief import parse_config
from workflows.errors import ConfigError


def problems_of(alerts: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config({"workflows": {"triage": {"alerts": alerts}}})
    return caught.value.problems


BAD_RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"repeated_error": {"count": 0}}, "repeated_error.count", "greater than or equal to 1"),
    ({"latency": {"threshold": "fast"}}, "latency.threshold", "not a duration"),
    ({"error_rate": {"percent": 150}}, "error_rate.percent", "less than or equal to 100"),
    ({"error_rate": {"min_calls": -1}}, "error_rate.min_calls", "greater than or equal"),
    ({"token_spike": {"window": "3h"}}, "token_spike.baseline", "at least as long as window"),
    (
        {"stale_handoff": {"remind_percent": 80, "escalate_percent": 60}},
        "stale_handoff.escalate_percent",
        "must be greater than remind_percent",
    ),
    ({"stale_handoff": {"escalate_percent": 100}}, "stale_handoff.escalate_percent", "less than"),
    ({"credentials": {"rotate_after": "0d"}}, "credentials.rotate_after", "longer than zero"),
    ({"repeat_interval": "often"}, "repeat_interval", "not a duration"),
    ({"latency": {"treshold": "5s"}}, "latency.treshold", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("alerts", "field", "reason"), BAD_RULES)
def test_each_bad_rule_setting_names_workflow_rule_and_field(
    alerts: dict[str, Any], field: str, reason: str
) -> None:
    """The one problem line says which workflow, which rule's field, and what is wrong."""
    [problem] = problems_of(alerts)
    assert f"workflow 'triage', field 'alerts.{field}'" in problem
    assert reason in problem


def test_start_up_stops_on_a_bad_rule(tmp_path: Path) -> None:
    """Loading workflows.yml at start-up raises before anything is served."""
    path = tmp_path / "workflows.yml"
    path.write_text("workflows:\n  triage:\n    alerts:\n      error_rate: {percent: 0}\n")
    with pytest.raises(ConfigError) as caught:
        build_services(Settings(HANDRAIL_CONFIG=path))
    assert "Handrail cannot start" in str(caught.value)
    assert "workflow 'triage', field 'alerts.error_rate.percent'" in str(caught.value)


def test_defaults_match_the_issue() -> None:
    """Without settings: 5 in 15 min, 3 calls over 5 s, 2% of 50 in 10 min, +30% tokens."""
    rules = parse_config({"workflows": {"triage": {}}}).workflows["triage"].alerts
    assert (rules.repeated_error.count, rules.repeated_error.window.total_seconds()) == (5, 900)
    assert (rules.latency.threshold.total_seconds(), rules.latency.consecutive) == (5, 3)
    assert (rules.error_rate.percent, rules.error_rate.min_calls) == (2, 50)
    assert rules.token_spike.percent == 30
    assert (rules.repeat_interval.total_seconds(), rules.escalate_after.total_seconds()) == (
        4 * 3600,
        15 * 60,
    )
