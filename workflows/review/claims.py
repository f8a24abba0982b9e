"""Claims: a click's decision takes its place in line before the click is acknowledged.

Slack is answered only after the claim is written, so the order of claims is the order
in which people were acknowledged: a Reject submitted after an acknowledged Approve finds
the handoff claimed and loses, however long the Approve takes to be recorded. Claimed
decisions are then recorded in batches, oldest claim first and at the time of the claim;
a claim never expires, since the person acted in time, and one left by a crash is
recorded when the server comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Handoff
from store.repositories import handoffs as repo
from workflows.config.brief import WorkflowConfig
from workflows.errors import HandrailError
from workflows.review.decisions import (
    DecisionInput,
    DecisionRequest,
    check_outcome,
    record_decisions,
)

log = logging.getLogger("handrail.decisions")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClickClaim:
    """A click's decision, claimed before the click is acknowledged, at ``at``."""

    handoff: Handoff
    decision: DecisionInput
    at: datetime


async def claim_decisions(
    db: AsyncSession, claims: Sequence[ClickClaim]
) -> list[bool | HandrailError]:
    """Claim the handoffs of many clicks at once, in their order; for each, won or refused.

    An outcome the handoff does not offer is refused before anything is claimed. Of
    several claims on one handoff only the first can win; a claim loses when the handoff
    was already claimed, decided or expired.
    """
    results: list[bool | HandrailError] = []
    first: dict[str, int] = {}
    for index, claim in enumerate(claims):
        try:
            await check_outcome(db, claim.handoff, claim.decision)
        except HandrailError as refused:
            results.append(refused)
            continue
        first.setdefault(claim.handoff.id, index)
        results.append(False)
    won = await repo.claim_handoffs(
        db,
        [
            repo.HandoffClaim(
                handoff_id, claims[i].decision.reviewer, claims[i].decision.outcome, claims[i].at
            )
            for handoff_id, i in first.items()
        ],
    )
    for handoff_id, index in first.items():
        results[index] = handoff_id in won
    return results


async def record_claimed_decisions(
    db: AsyncSession, *, policy_of: Callable[[str], WorkflowConfig], limit: int
) -> list[str]:
    """Record up to ``limit`` claimed decisions, oldest claim first; the handoffs' IDs.

    A claim that can no longer be recorded (its workflow was removed from workflows.yml)
    is let go, so the handoff can be decided again, and the log says why. A claim already
    recorded by another server process is skipped: the first to record it wins. The batch
    is recorded by ``record_decisions`` in a handful of statements, whatever its size.
    """
    claimed = await repo.list_claimed_handoffs(db, limit=limit)
    requests: list[DecisionRequest] = []
    refusals: list[tuple[str, HandrailError]] = []
    for handoff in claimed:
        try:
            policy = policy_of(handoff.workflow)
        except HandrailError as refused:
            refusals.append((handoff.id, refused))
            continue
        decision = DecisionInput(
            outcome=str(handoff.claimed_outcome), reviewer=str(handoff.claimed_by)
        )
        requests.append(
            DecisionRequest(
                handoff_id=handoff.id,
                policy=policy,
                decision=decision,
                now=handoff.claimed_at or handoff.created_at,
            )
        )
    # Claims are let go after: the pause switches are held before any handoff row is written.
    recorded = await record_decisions(db, requests)
    for request, result in zip(requests, recorded, strict=True):
        if isinstance(result, HandrailError):
            refusals.append((request.handoff_id, result))
    for handoff_id, error in refusals:
        await _let_go(db, handoff_id, error)
    return [handoff.id for handoff in claimed]


async def _let_go(db: AsyncSession, handoff_id: str, refused: HandrailError) -> None:
    """Let go of a claim that cannot be recorded, so the handoff can be decided again."""
    if await repo.release_claim(db, handoff_id):
        log.warning("let go of the claim on handoff %s: %s", handoff_id, refused.message)
