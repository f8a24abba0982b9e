"""How a quorum reads in a handoff's message: what it needs, who approved, who decided."""

from __future__ import annotations

from handlers.blocks._parts import mention
from workflows.ledger.views import DecisionView, QuorumView

#: The decision buttons' ``block_id`` under a quorum: the round of the text they show.
ROUND_BLOCK_PREFIX = "quorum-round-"


def round_block_id(quorum: QuorumView, handoff_id: str) -> str:
    """The round, then the handoff: block IDs must be unique within a view, and the App
    Home lists several cases' buttons in one."""
    return f"{ROUND_BLOCK_PREFIX}{quorum.round}:{handoff_id}"


def round_of_block(block_id: str) -> int | None:
    """The round a clicked button's block names; None when it names none (older message)."""
    number = block_id.removeprefix(ROUND_BLOCK_PREFIX).partition(":")[0]
    if not block_id.startswith(ROUND_BLOCK_PREFIX) or not number.isdigit():
        return None
    return int(number)


def group_mention(usergroup_id: str) -> str:
    return f"<!subteam^{usergroup_id}>"


def people(user_ids: tuple[str, ...] | list[str]) -> str:
    """``@A``, ``@A and @B``, ``@A, @B and @C``."""
    names = [mention(user) for user in user_ids]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def quorum_line(quorum: QuorumView) -> str:
    """What the pending case still needs, e.g. "Needs 2 approvals (one from @finance) ·
    approved so far by @A · 1 more needed, from @finance"."""
    line = f":busts_in_silhouette: Needs {quorum.required} approval"
    line += "s" if quorum.required != 1 else ""
    if quorum.from_groups:
        line += " (one from each of " + ", ".join(map(group_mention, quorum.from_groups)) + ")"
    if quorum.approvers:
        of = " of the edited text" if quorum.edited else ""
        line += f" · approved so far{of} by {people(quorum.approvers)}"
    elif quorum.edited:
        line += " · the text was edited, so approvals start again on it"
    line += f" · {quorum.needed} more needed"
    if quorum.missing_from:
        line += ", from " + ", ".join(map(group_mention, quorum.missing_from))
    return line


def deciders(decision: DecisionView) -> str:
    """Who decided: every approver of a quorum, else the one reviewer."""
    if decision.approvers:
        return people(decision.approvers)
    return mention(decision.reviewer)
