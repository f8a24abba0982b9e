"""Quorums: an action whose approval needs several distinct reviewers.

``approvals: {refund: {required: 2, from: [S0FINANCE, S0SUPPORT]}}`` in workflows.yml:
two distinct reviewers, one of them in each usergroup. Each Approve is a vote
(``approval_votes``), appended to the audit chain; a vote that does not complete the
quorum leaves the handoff pending and unclaimed, so a rejection still ends the case at
once, and expiry still expires it (never an approval). The vote that completes it claims
the handoff, in the same transaction, and the claim is recorded as the decision like any
click's (``workflows.review.claims``), with every approver. An edit is a vote for the edited text
that starts a new round: the approvals before it were of something else.

Who counts is decided in the database: the vote locks the handoff in the round the voter
saw (``store.repositories.approval_votes.hold_round``) and reads the round's votes under
that lock, so of simultaneous votes exactly one sees the quorum complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ApprovalVote, Handoff
from store.repositories import approval_votes as votes
from workflows.audit.entries import append_vote_entry
from workflows.config.brief import ApprovalRule
from workflows.errors import Conflict, InvalidInput
from workflows.review.approval import approval_digest
from workflows.review.handoffs import refresh_message
from workflows.review.rules import Standing, quorum_state, standing

if TYPE_CHECKING:  # decisions imports this module
    from workflows.review.decisions import DecisionInput


@dataclass(frozen=True, slots=True, kw_only=True)
class Ballot:
    """One reviewer's approval, checked outside the write: who, of which round, with which
    usergroups; and what the Slack directory says now of the round's earlier voters."""

    handoff_id: str
    reviewer: str
    seen_round: int
    groups: frozenset[str]
    new_round: bool = False
    """An edit: the approvals start again, on ``edited_text`` (None: the draft as it came)."""
    edited_text: str | None = None
    standing_of: Mapping[str, frozenset[str] | None]
    """Earlier voters' usergroups as checked now; None: no longer a reviewer, not counted."""


@dataclass(frozen=True, slots=True)
class VoteResult:
    standing: Standing
    completed: bool


async def cast_vote(
    db: AsyncSession, *, ballot: Ballot, rule: ApprovalRule, workflow: str, now: datetime
) -> VoteResult:
    """Record ``ballot``; claim the handoff if it completes the quorum. Raises ``Conflict``
    (nothing written) when the handoff moved on or the reviewer already approved."""
    handoff = await votes.hold_round(
        db,
        ballot.handoff_id,
        seen_round=ballot.seen_round,
        now=now,
        new_round=ballot.new_round,
        edited_text=ballot.edited_text,
    )
    if handoff is None:
        raise await _moved_on(db, ballot.handoff_id, ballot.seen_round)
    vote = ApprovalVote(
        handoff_id=handoff.id,
        round=handoff.quorum_round,
        reviewer=ballot.reviewer,
        groups=sorted(ballot.groups),
        approval_digest=approval_digest(
            action=handoff.action, final_text=round_text(handoff), payload=handoff.payload
        ),
        voted_at=now,
    )
    cast = await votes.list_votes(db, handoff.id, handoff.quorum_round)
    vote_id = await votes.add_vote(db, vote)
    if vote_id is None:
        counted = standing(rule, _counted(cast, ballot))
        raise Conflict(
            f"you already approved this; {_still_needed(counted)}",
            details=[{"loc": "reviewer", "reviewer": ballot.reviewer, "status": "voted"}],
        )
    counted = standing(rule, _counted([*cast, vote], ballot))
    edited = handoff.quorum_text is not None
    await votes.set_quorum_state(db, handoff.id, quorum_state(rule, counted, edited=edited))
    entry = await append_vote_entry(db, vote=vote, workflow=workflow)
    await votes.link_vote_entry(db, vote_id, entry.sequence)
    completed = counted.met and await votes.claim_for_quorum(
        db,
        handoff.id,
        reviewer=ballot.reviewer,
        outcome="edited" if edited else "approved",
        now=now,
    )
    if not completed:  # the decision's own update follows a completing vote
        await refresh_message(
            db, handoff=handoff, reason=f"vote:{vote.round}:{vote.reviewer}", now=now
        )
    return VoteResult(counted, completed)


def round_text(handoff: Handoff) -> str | None:
    """The text the handoff's current round approves: the last edit, else the draft."""
    return handoff.quorum_text if handoff.quorum_text is not None else handoff.draft


def _counted(cast: Sequence[ApprovalVote], ballot: Ballot) -> list[tuple[str, frozenset[str]]]:
    """The round's voters who still count, with their usergroups (the voter's as checked)."""
    counted: list[tuple[str, frozenset[str]]] = []
    for vote in cast:
        if vote.reviewer == ballot.reviewer:
            counted.append((vote.reviewer, ballot.groups))
            continue
        groups = ballot.standing_of.get(vote.reviewer, frozenset(vote.groups))
        if groups is not None:
            counted.append((vote.reviewer, groups))
    return counted


def _still_needed(counted: Standing) -> str:
    if counted.met:
        return "the quorum is complete"
    more = f"{counted.needed} more approval{'s' if counted.needed != 1 else ''} needed"
    if counted.missing_from:
        more += " (from " + ", ".join(f"<!subteam^{g}>" for g in counted.missing_from) + ")"
    return more


async def _moved_on(db: AsyncSession, handoff_id: str, seen_round: int) -> Conflict:
    """Why a vote found the handoff moved on: decided, claimed, expired or edited."""
    handoff = await db.get(Handoff, handoff_id, populate_existing=True)
    if handoff is None or handoff.status != "pending":
        status = "gone" if handoff is None else handoff.status.replace("_", " ")
        return Conflict(
            f"this handoff is {status}; nothing was recorded",
            details=[{"loc": "handoff_id", "status": status}],
        )
    if handoff.claimed_by is not None:
        outcome = str(handoff.claimed_outcome).replace("_", " ")
        return Conflict(
            f"already {outcome} by <@{handoff.claimed_by}>; nothing was changed",
            details=[{"loc": "handoff_id", "status": "claimed", "reviewer": handoff.claimed_by}],
        )
    if handoff.quorum_round != seen_round:
        return Conflict(
            "the text was edited after you opened it, and approvals start again on the "
            "edited text: read it in the message and approve it there; nothing was recorded",
            details=[{"loc": "handoff_id", "status": "edited"}],
        )
    return Conflict(
        "this handoff expired; nothing was recorded",
        details=[{"loc": "handoff_id", "status": "expired"}],
    )


async def settle(
    db: AsyncSession, handoff: Handoff, decision: DecisionInput, *, approving: bool
) -> tuple[DecisionInput, list[str] | None]:
    """The decision a quorum's claim records, and its approvers (None: no quorum).

    An approval of a quorum handoff is recorded only from the claim its completing vote
    made, with the round's text (the last edit, if any) and every approver counted.
    """
    state = handoff.quorum
    if not isinstance(state, dict) or not approving:
        return decision, None
    if not (
        handoff.claimed_by == decision.reviewer and handoff.claimed_outcome == decision.outcome
    ):
        raise InvalidInput(
            f"this action needs {state.get('required')} approvals; each Approve counts one",
            details=[{"loc": "outcome", "status": "quorum"}],
        )
    if handoff.quorum_text is not None:
        decision = replace(decision, outcome="edited", final_text=handoff.quorum_text)
    return decision, [str(reviewer) for reviewer in state.get("approvers") or []]
