"""The review loop: handoffs, claims, decisions, approvals bound to a digest, acts."""
