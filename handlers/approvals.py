"""Approve and Edit on a handoff whose action needs a quorum: each click is a vote.

A vote is checked like any decision (the clicker must review the workflow) and written
before the click is acknowledged, in one short transaction (``workflows.review.quorum``);
only the vote that completes the quorum claims the handoff, and the decision recorder then
records it like any claimed click. Usergroup memberships (for ``from``) and the earlier
voters' rights are read from the directory first, outside the write: on SQLite a write
transaction holds the one write lock for its whole life.
"""

from __future__ import annotations

from typing import Any

from handlers.context import (
    HANDOFF_ID_KEY,
    decide,
    deps_of,
    directory_of,
    ensure_reviewer,
    gone,
)
from store.models import Handoff
from store.repositories import approval_votes as votes
from workflows.config.brief import ApprovalRule, WorkflowConfig
from workflows.errors import Conflict, Forbidden, HandrailError, NotFound
from workflows.review.approval import APPROVING_OUTCOMES
from workflows.review.decisions import DecisionInput
from workflows.review.handoffs import get_handoff_of
from workflows.review.quorum import Ballot, VoteResult, cast_vote, round_text
from workflows.review.rules import voting_rule
from workflows.roles import MemberDirectory, is_listed


class _VoteInstead(HandrailError):
    """Raised by a claim's check: this Approve is a vote towards a quorum, not a claim."""

    def __init__(self, handoff: Handoff) -> None:
        super().__init__("a vote towards a quorum")
        self.handoff = handoff


async def claim_or_vote(
    context: dict[str, Any],
    *,
    handoff_id: str,
    decision: DecisionInput,
    seen_round: int | None = None,
) -> bool:
    """Claim the handoff for the click (``handlers.context.claim``), or, when its action
    needs a quorum, record the click's vote; True when the click is done.

    ``seen_round``: the round of the text the clicked message showed, if it said; a vote
    on a message showing an older text is refused (None: the text as it is now)."""
    context[HANDOFF_ID_KEY] = handoff_id

    async def check(handoff: Handoff | None) -> None:
        reviewing = await ensure_reviewer(
            context, handoff, handoff_id=handoff_id, user=decision.reviewer
        )
        approving = decision.outcome in APPROVING_OUTCOMES
        if handoff is not None and approving and voting_rule(reviewing.policy, handoff):
            raise _VoteInstead(handoff)

    try:
        return await deps_of(context).claim_handoff(
            handoff_id=handoff_id, decision=decision, check=check
        )
    except _VoteInstead as instead:
        handoff = instead.handoff
        if seen_round is not None and seen_round != handoff.quorum_round:
            raise Conflict(
                "the text was edited after this message showed it, and approvals start "
                "again on the edited text: read it in the updated message; nothing was recorded",
                details=[{"loc": "handoff_id", "status": "edited"}],
            ) from None
        await vote(context, handoff=handoff, reviewer=decision.reviewer)
        return True


async def decide_or_vote(
    context: dict[str, Any], *, handoff_id: str, decision: DecisionInput
) -> None:
    """Record a modal's decision (``handlers.context.decide``); an edit of a quorum's
    text is a vote for the edited text, which starts the count again."""
    if decision.outcome in APPROVING_OUTCOMES:
        context[HANDOFF_ID_KEY] = handoff_id
        async with deps_of(context).readers() as db:
            try:
                handoff = await get_handoff_of(db, handoff_id=handoff_id, workflow=None)
            except NotFound:
                raise gone(handoff_id) from None
        reviewing = await ensure_reviewer(
            context, handoff, handoff_id=handoff_id, user=decision.reviewer
        )
        if voting_rule(reviewing.policy, handoff) is not None:
            text = decision.final_text
            changed = text is not None and text != round_text(handoff)
            await vote(
                context,
                handoff=handoff,
                reviewer=decision.reviewer,
                new_round=changed,
                edited_text=text if changed and text != handoff.draft else None,
            )
            return
    await decide(context, handoff_id=handoff_id, decision=decision)


async def vote(
    context: dict[str, Any],
    *,
    handoff: Handoff,
    reviewer: str,
    new_round: bool = False,
    edited_text: str | None = None,
) -> VoteResult:
    """Record ``reviewer``'s approval of ``handoff`` (already checked to be a reviewer)."""
    deps = deps_of(context)
    directory = directory_of(context)
    policy = deps.workflow(handoff.workflow)
    rule = voting_rule(policy, handoff)
    if rule is None:  # the quorum was removed from workflows.yml since the check
        raise Forbidden(
            f"{handoff.workflow} changed while you clicked; click again",
            details=[{"loc": "handoff_id"}],
        )
    groups = await _groups_of(reviewer, rule, directory)
    if rule.from_ and rule.required == len(rule.from_) and not groups:
        listed = ", ".join(f"<!subteam^{group}>" for group in rule.from_)
        raise Forbidden(
            f"Permission denied: each approval of {handoff.action} must come from one of "
            f"{listed}, and <@{reviewer}> is in none of them; nothing was recorded",
            details=[{"loc": "user", "user": reviewer, "from": list(rule.from_)}],
        )
    async with deps.readers() as db:
        cast = await votes.list_votes(db, handoff.id, handoff.quorum_round)
    standing_of = {
        earlier.reviewer: await _standing_of(earlier.reviewer, rule, policy, directory)
        for earlier in cast
        if earlier.reviewer != reviewer and not new_round
    }
    ballot = Ballot(
        handoff_id=handoff.id,
        reviewer=reviewer,
        seen_round=handoff.quorum_round,
        groups=groups,
        new_round=new_round,
        edited_text=edited_text,
        standing_of=standing_of,
    )
    async with deps.sessions() as db, db.begin():
        result = await cast_vote(
            db, ballot=ballot, rule=rule, workflow=handoff.workflow, now=deps.clock()
        )
    if result.completed:
        deps.wake_decision_recorder()
    deps.wake_outbox()
    return result


async def _groups_of(
    reviewer: str, rule: ApprovalRule, directory: MemberDirectory
) -> frozenset[str]:
    """The quorum's ``from`` usergroups ``reviewer`` is a member of, as Slack says now."""
    return frozenset(
        [group for group in rule.from_ if reviewer in await directory.usergroup_members(group)]
    )


async def _standing_of(
    reviewer: str, rule: ApprovalRule, policy: WorkflowConfig, directory: MemberDirectory
) -> frozenset[str] | None:
    """An earlier voter's usergroups now; None once they no longer review the workflow."""
    if not await is_listed(reviewer, policy.reviewers, directory):
        return None
    return await _groups_of(reviewer, rule, directory)
