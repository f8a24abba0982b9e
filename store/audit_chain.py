"""The audit log's hash chain: how one entry's hash is computed, defined once.

An auditor re-computes these with any tool (docs/audit.md gives the recipe), so nothing
here may change meaning once entries exist: the serialisation is sorted-key compact JSON in
UTF-8, the timestamp always carries six fractional digits and a ``Z``, and details hold
only strings, integers, booleans, null, lists and objects (never floats, whose text form
differs between tools).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.models import Decision

#: The ``prev_hash`` of the first entry: there is nothing before it.
GENESIS_HASH = "0" * 64


def utc_stamp(moment: datetime) -> str:
    """``2026-12-06T07:00:00.000000Z``: one spelling for a moment, whatever the database."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 left unescaped: the form every digest here covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_document(
    *,
    sequence: int,
    at: datetime,
    actor: str,
    action: str,
    workflow: str | None,
    details: dict[str, Any] | None,
    prev_hash: str,
) -> dict[str, Any]:
    """The fields an entry's hash covers, as they are serialised."""
    return {
        "sequence": sequence,
        "at": utc_stamp(at),
        "actor": actor,
        "action": action,
        "workflow": workflow,
        "details": details,
        "prev_hash": prev_hash,
    }


def entry_hash(
    *,
    sequence: int,
    at: datetime,
    actor: str,
    action: str,
    workflow: str | None,
    details: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical JSON; ``prev_hash`` links it to the one before."""
    document = entry_document(
        sequence=sequence,
        at=at,
        actor=actor,
        action=action,
        workflow=workflow,
        details=details,
        prev_hash=prev_hash,
    )
    return sha256_hex(canonical_json(document))


def text_digest(text: str | None) -> str | None:
    """SHA-256 (hex) of a text, so the log proves what was decided without holding it."""
    return None if text is None else sha256_hex(text)


#: The action names of the chain.
DECIDED = "handoff.decided"
EXPIRED = "handoff.expired"
ACTED = "handoff.acted"
APPROVAL_VOTED = "handoff.approval_voted"
TOKEN_CREATED = "token.created"  # noqa: S105 - an action name, not a secret
TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name, not a secret
POLICY_PROMOTED = "policy.promoted"
POLICY_DEMOTED = "policy.demoted"
POLICY_BACKTESTED = "policy.backtest"


def vote_details(
    *, handoff_id: str, round: int, groups: list[str], approval_digest: str
) -> dict[str, Any]:
    """What an approval vote's entry records: of which handoff and round, as whom."""
    return {
        "handoff_id": handoff_id,
        "round": round,
        "groups": list(groups),
        "approval_digest": approval_digest,
    }


def decision_details(
    *,
    handoff_id: str,
    run_id: str,
    reviewer: str,
    outcome: str,
    final_text: str | None,
    reason: str | None,
    approval_digest: str | None,
    approvers: list[str] | None = None,
) -> dict[str, Any]:
    """What a decision's entry records: who decided what, with digests instead of texts.

    ``approvers`` only for a quorum's decision, so entries written before quorums existed
    keep their hashes."""
    quorum = {} if approvers is None else {"approvers": list(approvers)}
    return {
        **quorum,
        "handoff_id": handoff_id,
        "run_id": run_id,
        "reviewer": reviewer,
        "outcome": outcome,
        "text_digest": text_digest(final_text),
        "reason_digest": text_digest(reason),
        "approval_digest": approval_digest,
    }


def details_of_decision(decision: Decision) -> dict[str, Any]:
    """``decision_details`` of a stored decision: what its entry records, and what ``audit
    verify`` expects that entry to hold."""
    return decision_details(
        handoff_id=decision.handoff_id,
        run_id=decision.run_id,
        reviewer=decision.reviewer,
        outcome=decision.outcome,
        final_text=decision.final_text,
        reason=decision.reason,
        approval_digest=decision.approval_digest,
        approvers=decision.approvers,
    )
