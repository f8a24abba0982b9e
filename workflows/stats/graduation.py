"""Trust graduation: a threshold an action has earned, offered to a person as a YAML change.

Nothing here writes anything. A suggestion is made for an action that is asked about
every time today (the workflow is in ``review`` or ``shadow`` mode, or the action is in
``require_approval``) when calibration found a threshold the evidence carries. It comes
with the exact ``workflows.yml`` change, as a small unified diff of the fields it touches:

- the action leaves ``require_approval``; in ``review`` or ``shadow`` mode the workflow
  moves to ``auto`` and every other allowed action joins ``require_approval``, so nothing
  else starts going through unseen;
- ``confidence_threshold`` is one value for the whole workflow: in ``auto`` mode it is
  only ever raised (other actions already go through above it), and the figures are
  given at the threshold the change really sets.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from workflows.config.brief import WorkflowConfig
from workflows.stats.calibration import ActionCalibration, Threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    action: str
    threshold: Threshold
    days: int
    yaml_diff: str

    def describe(self) -> str:
        """One line a person reads, with the sample behind every figure."""
        t = self.threshold
        return (
            f"`{self.action}`: {t.approved} of {t.decided} approved unchanged at or above "
            f"{t.value:.2f} over {self.days} days; a threshold of {t.value:.2f} instead of "
            f"always asking would have saved {t.saved_share:.0%} of reviews "
            f"({t.saved} of {t.handoffs})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            **self.threshold.to_json(),
            "text": self.describe(),
            "workflows_yml_diff": self.yaml_diff,
        }


def always_asked(policy: WorkflowConfig, action: str) -> bool:
    return policy.mode in ("review", "shadow") or action in policy.require_approval


def suggest(
    *, workflow: str, policy: WorkflowConfig, calibrations: list[ActionCalibration], days: int
) -> list[Suggestion]:
    """One suggestion per always-asked action whose evidence carries a threshold."""
    found: list[Suggestion] = []
    for calibration in calibrations:
        if calibration.threshold is None or calibration.action not in policy.allowed_actions:
            continue
        if not always_asked(policy, calibration.action):
            continue
        after = _graduated(policy, calibration.action, calibration.threshold.value)
        threshold = calibration.at(after["confidence_threshold"])
        if threshold.saved == 0:
            continue
        found.append(
            Suggestion(
                action=calibration.action,
                threshold=threshold,
                days=days,
                yaml_diff=_diff(workflow, _fields(policy), after),
            )
        )
    return found


def _fields(policy: WorkflowConfig) -> dict[str, Any]:
    return {
        "mode": policy.mode,
        "require_approval": list(policy.require_approval),
        "confidence_threshold": policy.confidence_threshold,
    }


def _graduated(policy: WorkflowConfig, action: str, threshold: float) -> dict[str, Any]:
    if policy.mode == "auto":
        asking = [name for name in policy.require_approval if name != action]
        return {
            "mode": "auto",
            "require_approval": asking,
            "confidence_threshold": max(policy.confidence_threshold, threshold),
        }
    return {
        "mode": "auto",
        "require_approval": [name for name in policy.allowed_actions if name != action],
        "confidence_threshold": threshold,
    }


def _diff(workflow: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    def render(fields: dict[str, Any]) -> list[str]:
        text = yaml.safe_dump(
            {"workflows": {workflow: fields}}, sort_keys=False, default_flow_style=None
        )
        return text.splitlines()

    lines = difflib.unified_diff(
        render(before), render(after), "workflows.yml", "workflows.yml", lineterm="", n=3
    )
    return "\n".join(lines)
