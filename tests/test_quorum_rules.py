"""Where a quorum stands: distinct approvers, one of their own for each usergroup in from."""

from __future__ import annotations

from workflows.config.brief import ApprovalRule
from workflows.review.rules import standing

RULE = ApprovalRule(required=2, **{"from": ["S0FINANCE", "S0SUPPORT"]})
BOTH = frozenset({"S0FINANCE", "S0SUPPORT"})


def test_one_person_in_both_usergroups_stands_for_one_of_them() -> None:
    """A member of both groups alone leaves one approval, from either group, missing."""
    now = standing(RULE, [("U0DAN", BOTH)])
    assert (now.needed, now.met) == (1, False)
    assert len(now.missing_from) == 1


def test_a_member_of_both_frees_the_group_another_approver_needs() -> None:
    """Dan (both) then Alice (finance): Dan stands for support and the quorum is met."""
    now = standing(RULE, [("U0DAN", BOTH), ("U0ALICE", frozenset({"S0FINANCE"}))])
    assert (now.needed, now.missing_from, now.met) == (0, (), True)


def test_the_same_reviewer_counts_once() -> None:
    """Two approvals by one person are one approver."""
    now = standing(ApprovalRule(required=2), [("U0ALICE", frozenset()), ("U0ALICE", frozenset())])
    assert (now.approvers, now.needed) == (("U0ALICE",), 1)


def test_approvers_beyond_the_groups_fill_the_rest_of_required() -> None:
    """required 3 from one group: one member and two others make it."""
    rule = ApprovalRule(required=3, **{"from": ["S0FINANCE"]})
    now = standing(
        rule,
        [("U0BOB", frozenset()), ("U0CAROL", frozenset()), ("U0ALICE", frozenset({"S0FINANCE"}))],
    )
    assert now.met
