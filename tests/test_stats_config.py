"""The brief's two review-metrics fields: ``minutes_per_case`` and ``calibration_target``."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import TEST_WORKFLOWS
from workflows.config.brief import parse_config
from workflows.errors import ConfigError


def brief(**fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(TEST_WORKFLOWS)
    data["workflows"]["ticket-triage"].update(fields)
    return data


def test_both_fields_are_optional() -> None:
    """Left out, there is no time-saved estimate and the target is 98%."""
    policy = parse_config(TEST_WORKFLOWS).workflows["ticket-triage"]
    assert (policy.minutes_per_case, policy.calibration_target) == (None, 0.98)


@pytest.mark.parametrize(
    ("field", "value"),
    [("minutes_per_case", 0), ("minutes_per_case", "a lot"), ("calibration_target", 1.0)],
)
def test_a_bad_value_names_the_workflow_and_field(field: str, value: Any) -> None:
    """A zero, a word or a certainty is refused on the field, naming the workflow."""
    with pytest.raises(ConfigError) as raised:
        parse_config(brief(**{field: value}))
    assert f"workflow 'ticket-triage', field '{field}'" in raised.value.message
