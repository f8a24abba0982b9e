"""What a quorum asks and where it stands: pure functions over the rule and the approvers.

Kept apart from the votes' writes (``workflows.review.quorum``) so opening a handoff can
announce its quorum without importing the decision path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from store.models import Handoff
from workflows.config.brief import ApprovalRule, WorkflowConfig


def opening_state(
    policy: WorkflowConfig, *, kind: str, action: str | None, shadow: bool
) -> dict[str, Any] | None:
    """The quorum a new handoff's message announces (no approver yet), or None.

    Taken from the handoff's request rather than its row, because the gate writes the row
    at the driver (``store.gate_writes``) from the same values the ORM path uses."""
    rule = _rule_for(policy, kind=kind, action=action, shadow=shadow)
    if rule is None:
        return None
    return quorum_state(rule, standing(rule, []), edited=False)


def quorum_rule(policy: WorkflowConfig, handoff: Handoff) -> ApprovalRule | None:
    """The quorum ``handoff`` needs, or None when one reviewer's approval decides it."""
    return _rule_for(policy, kind=handoff.kind, action=handoff.action, shadow=handoff.shadow)


def _rule_for(
    policy: WorkflowConfig, *, kind: str, action: str | None, shadow: bool
) -> ApprovalRule | None:
    if kind == "tool_failure" or action is None or shadow:
        return None
    return policy.approvals.get(action)


def voting_rule(policy: WorkflowConfig, handoff: Handoff) -> ApprovalRule | None:
    """The quorum an Approve of ``handoff`` counts towards now, or None: a plain decision.

    A case opened under a quorum that workflows.yml has since dropped still decides by
    vote, its rounds and edits intact, but one approval then makes it.
    """
    rule = quorum_rule(policy, handoff)
    if rule is None and isinstance(handoff.quorum, dict):
        return ApprovalRule(required=1)
    return rule


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a quorum stands: who counts, how many more, which usergroups are missing."""

    approvers: tuple[str, ...]
    needed: int
    missing_from: tuple[str, ...]

    @property
    def met(self) -> bool:
        return self.needed == 0


def standing(rule: ApprovalRule, approvers: Sequence[tuple[str, frozenset[str]]]) -> Standing:
    """Count distinct ``approvers`` (each with their ``from`` usergroups) against ``rule``.

    Each usergroup needs an approver of its own (a maximum matching of groups to people);
    one person in two groups stands for one of them. Approvals still needed: enough new
    people for the unmatched groups, and enough for ``required`` in all.
    """
    people: dict[str, frozenset[str]] = {}
    for reviewer, groups in approvers:
        people.setdefault(reviewer, groups)
    held: dict[str, str] = {}  # usergroup -> the approver standing for it

    def seat(group: str, seen: set[str]) -> bool:
        for person, groups in people.items():
            if group not in groups or person in seen:
                continue
            seen.add(person)
            owner = next((g for g, p in held.items() if p == person), None)
            if owner is None or seat(owner, seen):  # the owner's group found someone else
                held[group] = person
                return True
        return False

    for group in rule.from_:
        seat(group, set())
    missing = tuple(group for group in rule.from_ if group not in held)
    needed = max(rule.required - len(people), len(missing), 0)
    return Standing(tuple(people), needed, missing)


def quorum_state(rule: ApprovalRule, now_standing: Standing, *, edited: bool) -> dict[str, Any]:
    """The handoff's ``quorum`` column: what its message shows about the quorum."""
    return {
        "required": rule.required,
        "from": list(rule.from_),
        "approvers": list(now_standing.approvers),
        "needed": now_standing.needed,
        "missing_from": list(now_standing.missing_from),
        "edited": edited,
    }
