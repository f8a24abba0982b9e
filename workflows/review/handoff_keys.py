"""The outbox keys a handoff's deliveries are queued under.

Kept apart from the modules that queue and read those rows (handoffs, callbacks,
deliveries), which import one another's neighbours: every one of them can import this.
"""

from __future__ import annotations


def post_key(handoff_id: str) -> str:
    """The outbox key of a handoff's Slack message; updates and replies refer to it."""
    return f"handoff:{handoff_id}:post"


def webhook_key(handoff_id: str) -> str:
    """The outbox key and the idempotency key of a handoff's outcome webhook."""
    return f"handoff:{handoff_id}:webhook"
