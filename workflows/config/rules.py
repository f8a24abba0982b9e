"""Rules across a workflow's fields: briefs that load but could never work as written.

Each rule returns ``(field, reason)`` pairs; ``raise_problems`` turns them into one
validation error per field, so every problem gets its own line at start-up instead of the
first one hiding the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

if TYPE_CHECKING:
    from workflows.config.brief import WorkflowConfig

Problem = tuple[str, str]
"""The field at fault and why, written for the person editing workflows.yml."""


def workflow_problems(
    policy: WorkflowConfig, *, environ: Mapping[str, str] | None
) -> list[Problem]:
    """Every cross-field problem of one workflow; ``environ`` given, its callback secret too."""
    return [
        *approval_problems(policy),
        *quorum_problems(policy),
        *handoff_audience_problems(policy),
        *callback_problems(policy, environ=environ),
        *redaction_problems(policy),
    ]


def approval_problems(policy: WorkflowConfig) -> list[Problem]:
    unknown = sorted(set(policy.require_approval) - set(policy.allowed_actions))
    if unknown and policy.allowed_actions:
        return [
            (
                "require_approval",
                f"names actions missing from allowed_actions: {', '.join(unknown)}",
            )
        ]
    return []


def quorum_problems(policy: WorkflowConfig) -> list[Problem]:
    """Quorums that could never be met as written, each with the fix.

    Each usergroup in ``from`` needs an approver of its own, so ``required`` covers them
    all; its members may only click if the group is a reviewer; and when the reviewers are
    all named people, there must be enough of them. (A usergroup's size is only known to
    Slack, so a reviewer list with a group is not counted.)
    """
    problems: list[Problem] = []
    people = [entry for entry in policy.reviewers if not entry.startswith("S")]
    counted = len(people) == len(policy.reviewers)
    for action, rule in sorted(policy.approvals.items()):
        field = f"approvals.{action}"
        if policy.allowed_actions and action not in policy.allowed_actions:
            problems.append(
                (field, f"'{action}' is not in allowed_actions; add it or remove this quorum")
            )
        if len(rule.from_) != len(set(rule.from_)):
            problems.append((f"{field}.from", "names a usergroup twice; list each once"))
        if rule.required < len(rule.from_):
            problems.append(
                (
                    f"{field}.required",
                    f"is {rule.required} but from lists {len(rule.from_)} usergroups, each "
                    f"needing an approver of its own: set required to at least {len(rule.from_)}",
                )
            )
        unlisted = [group for group in rule.from_ if group not in policy.reviewers]
        if unlisted:
            problems.append(
                (
                    f"{field}.from",
                    f"{', '.join(unlisted)} not in reviewers, so no member could approve: "
                    "add them to reviewers",
                )
            )
        if counted and rule.required > len(set(people)):
            problems.append(
                (
                    f"{field}.required",
                    f"needs {rule.required} distinct approvers but reviewers lists "
                    f"{len(set(people))}: add reviewers or lower required",
                )
            )
    return problems


def certain_handoffs(policy: WorkflowConfig) -> str | None:
    """Why this brief is sure to open handoffs through the gate, or None if only some might."""
    if not policy.allowed_actions:
        return None  # the gate denies every action
    if policy.mode in ("review", "shadow"):
        return f"mode {policy.mode} opens a handoff for every allowed action"
    if policy.require_approval:
        return f"require_approval opens a handoff for {', '.join(policy.require_approval)}"
    return None


def handoff_audience_problems(policy: WorkflowConfig) -> list[Problem]:
    """Handoffs are posted to the review channel and only reviewers may decide them; without
    either, every one of them waits until it expires, and expiry is never an approval."""
    why = certain_handoffs(policy)
    if why is None:
        return []
    problems: list[Problem] = []
    if not policy.reviewers:
        problems.append(
            ("reviewers", f"must list someone: {why}, and only reviewers may decide one")
        )
    if policy.review_channel is None:
        problems.append(("review_channel", f"must be set: {why}, and handoffs are posted there"))
    return problems


def callback_problems(
    policy: WorkflowConfig, *, environ: Mapping[str, str] | None
) -> list[Problem]:
    """Decisions are only ever pushed signed: a callback without its secret fails every
    delivery. Only the variable's name is ever shown, never its value."""
    if policy.callback_url is None:
        return []
    variable = policy.callback_secret_env
    if variable is None:
        return [
            (
                "callback_secret_env",
                "is required with callback_url: decisions are pushed signed, so name the "
                "environment variable that holds the signing secret",
            )
        ]
    if environ is not None and not environ.get(variable):
        return [
            (
                "callback_secret_env",
                f"environment variable {variable} is not set or is empty; decisions pushed "
                "to callback_url are signed with it",
            )
        ]
    return []


def redaction_problems(policy: WorkflowConfig) -> list[Problem]:
    """Redaction counts are kept per pattern name, so two patterns may not share one."""
    names = Counter(name for name, _ in policy.custom_patterns)
    repeated = sorted(name for name, count in names.items() if count > 1)
    if repeated:
        return [
            (
                "redact",
                f"custom pattern names repeat: {', '.join(repeated)}; give each its own name",
            )
        ]
    return []


def raise_problems(title: str, problems: list[Problem]) -> None:
    """Raise one validation error per problem, each at its field (pydantic nests the
    location under the workflow that raised it)."""
    if not problems:
        return
    raise ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("config_rule", "{reason}", {"reason": reason}),
                loc=(field,),
                input=None,
            )
            for field, reason in problems
        ],
    )
