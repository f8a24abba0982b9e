"""Asking before acting: the gate, handoffs, and waiting for a person's decision.

``review()`` is the whole loop in one call: ask the gate; if the policy allows, go ahead;
if it wants a person, wait (long-polling, in slices the server allows) until a reviewer
approves, edits or rejects; if it denies because the workflow is paused, raise
:class:`WorkflowPaused` so the automation stops instead of acting.

Handrail keeps drafts redacted, so a decision's text comes back with ``[REDACTED:kind]``
where a value was cut. The client remembers the draft it sent for each handoff it opened
and gives the decision back in the automation's own words (``handrail_client.unredact``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handrail_client.errors import HandrailClientError, WorkflowPaused
from handrail_client.unredact import placeholder_kinds, restore

if TYPE_CHECKING:
    from handrail_client.client import HandrailClient

#: The longest single long-poll the server accepts.
POLL_SLICE_SECONDS = 55.0
WAITING = frozenset({"pending", "held"})


@dataclass(frozen=True, slots=True)
class GateResult:
    verdict: str
    reason: str
    handoff_id: str | None
    paused: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """A handoff's outcome as the automation sees it.

    ``text`` is what to send: for ``approved``, the draft exactly as the automation wrote
    it; for ``edited``, the reviewer's text with each ``[REDACTED:kind]`` it kept replaced
    by the original value, when that value is certain. ``unresolved_redactions`` lists the
    kinds of the placeholders still in ``text`` (in order); when it is not empty, ``text``
    must not go out as it is.

    ``shadow`` marks a case posted only for comparison (``mode: shadow``): whatever the
    reviewer chose, it is never permission to act, so ``approved`` is false and ``text`` is
    None; what the reviewer's choice would have sent is kept apart in ``shadow_text``.
    """

    handoff_id: str
    status: str
    outcome: str | None
    reviewer: str | None
    text: str | None
    reason: str | None
    category: str | None
    unresolved_redactions: tuple[str, ...] = ()
    shadow: bool = False
    shadow_text: str | None = None
    approval_digest: str | None = None
    """What the approval is bound to (action, text, payload); handed back by :func:`act`."""
    approvers: tuple[str, ...] = ()
    """Everyone whose approval counted (several when the action needs a quorum)."""

    @property
    def approved(self) -> bool:
        """Approved as drafted or as edited, and not a shadow case: ``text`` may go out."""
        return not self.shadow and self.status in ("approved", "edited")

    @classmethod
    def from_json(cls, body: dict[str, Any], *, draft: str | None = None) -> Decision:
        """The decision from the server's JSON; ``draft`` is the one the automation sent."""
        decision = body.get("decision") or {}
        text, unresolved = _own_words(
            body["status"], decision.get("final_text"), draft=draft, redacted=body.get("draft")
        )
        shadow = bool(body.get("shadow"))
        return cls(
            handoff_id=body["handoff_id"],
            status=body["status"],
            outcome=decision.get("outcome"),
            reviewer=decision.get("reviewer"),
            text=None if shadow else text,
            reason=decision.get("reason"),
            category=decision.get("category"),
            unresolved_redactions=unresolved,
            shadow=shadow,
            shadow_text=text if shadow else None,
            approval_digest=decision.get("approval_digest"),
            approvers=tuple(decision.get("approvers") or ()),
        )


@dataclass(frozen=True, slots=True)
class ActRecord:
    """The server's record that the automation acted on an approval (once)."""

    handoff_id: str
    approval_digest: str
    acted_at: str


async def act(client: HandrailClient, handoff_id: str, approval_digest: str) -> ActRecord:
    """Say, once, that the approval of ``handoff_id`` is being acted on, naming its digest.

    The server refuses a second use (409), another digest (422), an approval held by a
    pause (423) and anything that is not an approval (409); each is raised as the API
    error it is. Not retried after an answer: a refused act must not become an accepted one.
    """
    url = client.transport.url("api", "v1", "handoffs", handoff_id, "act")
    answer = await client.transport.request("POST", url, {"approval_digest": approval_digest})
    return ActRecord(
        handoff_id=str(answer["handoff_id"]),
        approval_digest=str(answer["approval_digest"]),
        acted_at=str(answer["acted_at"]),
    )


def _own_words(
    status: str, text: str | None, *, draft: str | None, redacted: str | None
) -> tuple[str | None, tuple[str, ...]]:
    """The decided text with redactions undone where certain, and the kinds left over."""
    if text is None:
        return None, ()
    if status == "approved" and draft is not None:
        return draft, ()
    if draft is not None and redacted is not None:
        return restore(text, original=draft, redacted=redacted)
    return text, placeholder_kinds(text)


class SentDrafts:
    """The drafts this client sent, by handoff, until their decision is read.

    Bounded: a handoff opened and never waited for is forgotten after ``limit`` newer ones.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._drafts: dict[str, str] = {}

    def remember(self, handoff_id: str, draft: str) -> None:
        self._drafts.pop(handoff_id, None)
        self._drafts[handoff_id] = draft
        while len(self._drafts) > self.limit:
            del self._drafts[next(iter(self._drafts))]

    def get(self, handoff_id: str) -> str | None:
        return self._drafts.get(handoff_id)

    def forget(self, handoff_id: str) -> None:
        self._drafts.pop(handoff_id, None)


class ReviewTimeout(HandrailClientError):
    """No decision arrived within the time the automation was willing to wait."""


async def gate(
    client: HandrailClient,
    run_id: str,
    *,
    action: str,
    draft: str | None = None,
    confidence: float | None = None,
    summary: str | None = None,
    payload: Any = None,
) -> GateResult:
    """Ask the gate once; a retried request is answered from the first (same request_id)."""
    body = {
        "request_id": uuid.uuid4().hex,
        "action": action,
        "draft": draft,
        "confidence": confidence,
        "summary": summary,
        "payload": payload,
    }
    url = client.transport.url("api", "v1", "runs", run_id, "gate")
    answer = await client.transport.request(
        "POST", url, {k: v for k, v in body.items() if v is not None}
    )
    if answer.get("handoff_id") and draft is not None:
        client.drafts.remember(answer["handoff_id"], draft)
    return GateResult(
        verdict=answer["verdict"],
        reason=answer["reason"],
        handoff_id=answer.get("handoff_id"),
        paused=bool(answer.get("paused")),
    )


async def open_handoff(
    client: HandrailClient, run_id: str, *, kind: str, summary: str, **fields: Any
) -> str:
    """Hand a case to a person directly (a tool failure, say); returns the handoff ID."""
    body = {"request_id": uuid.uuid4().hex, "kind": kind, "summary": summary, **fields}
    url = client.transport.url("api", "v1", "runs", run_id, "handoffs")
    answer = await client.transport.request(
        "POST", url, {k: v for k, v in body.items() if v is not None}
    )
    handoff_id = str(answer["handoff_id"])
    if isinstance(fields.get("draft"), str):
        client.drafts.remember(handoff_id, fields["draft"])
    return handoff_id


async def wait_for_decision(
    client: HandrailClient, handoff_id: str, *, max_wait: float, draft: str | None = None
) -> Decision:
    """Long-poll until the handoff is decided or expired; ``ReviewTimeout`` past ``max_wait`` s.

    ``draft`` is the draft the automation sent; it defaults to the one this client
    remembers from opening the handoff, and is needed to give the text back unredacted.
    """
    deadline = time.monotonic() + max_wait
    while True:
        left = deadline - time.monotonic()
        wait = max(0.0, min(POLL_SLICE_SECONDS, left))
        answer = await client.transport.request(
            "GET",
            client.transport.url("api", "v1", "handoffs", handoff_id, wait=f"{wait:.1f}"),
            attempt_timeout=wait + client.transport.timeout,
        )
        if answer["status"] not in WAITING:
            original = draft if draft is not None else client.drafts.get(handoff_id)
            decision = Decision.from_json(answer, draft=original)
            client.drafts.forget(handoff_id)
            return decision
        if time.monotonic() >= deadline:
            raise ReviewTimeout(
                f"no decision on handoff {handoff_id} within {max_wait:g} s "
                f"(status: {answer['status']}); it is still open on "
                f"{client.transport.base_url}: {await _where_it_waits(client, answer)}"
            )


async def _where_it_waits(client: HandrailClient, answer: dict[str, Any]) -> str:
    """Where the handoff waits for a person, as far as the server says (it may not)."""
    slack = None
    try:
        workflow = await client.transport.request(
            "GET", client.transport.url("api", "v1", "workflows", str(answer.get("workflow")))
        )
        slack = workflow.get("slack_configured")
    except HandrailClientError:  # an older server, or a token without runs:read: say less
        pass
    if slack is True:
        return "a reviewer can still decide it in Slack"
    if slack is False:
        return (
            "Slack is not configured on that server, so no reviewer has been asked yet; "
            "it waits in the outbox until Slack is set up"
        )
    return "a reviewer can still decide it"


async def review(
    client: HandrailClient,
    run_id: str,
    *,
    action: str,
    draft: str | None = None,
    confidence: float | None = None,
    summary: str | None = None,
    payload: Any = None,
    max_wait: float = 3600.0,
) -> Decision:
    """Ask the gate and, when a person must look, wait for their decision.

    Returns a ``Decision`` whose ``approved`` says whether to act and ``text`` what to send.
    A policy ``allow`` comes back approved with the draft unchanged; a ``deny`` comes back
    as ``denied``, except a pause, which raises ``WorkflowPaused``.
    """
    result = await gate(
        client,
        run_id,
        action=action,
        draft=draft,
        confidence=confidence,
        summary=summary,
        payload=payload,
    )
    if result.paused:
        raise WorkflowPaused(423, "paused", result.reason)
    if result.verdict in ("allow", "deny"):
        status = "approved" if result.verdict == "allow" else "denied"
        return Decision("", status, None, None, draft, result.reason, None)
    assert result.handoff_id is not None  # review and shadow always open a handoff
    if result.verdict == "shadow":
        client.drafts.forget(result.handoff_id)  # nothing will be waited for
        return Decision(
            result.handoff_id, "shadow", None, None, None, result.reason, None, shadow=True
        )
    return await wait_for_decision(client, result.handoff_id, max_wait=max_wait, draft=draft)
