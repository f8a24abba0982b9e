"""What an approval is bound to: one digest of exactly what the reviewer approved.

``approval_digest`` is SHA-256 (hex) of the canonical JSON (sorted keys, no spaces, UTF-8;
``store.audit_chain.canonical_json``) of ``{"action": …, "payload": …, "text": …}``: the
handoff's action, its payload and the decision's final text (the draft as approved, or the
reviewer's edit). Only approvals and edits carry one; the automation hands it back when it
acts (``workflows.review.acts``), so an act on anything else than what was approved is refused.
"""

from __future__ import annotations

from typing import Any

from store.audit_chain import canonical_json, sha256_hex

#: The outcomes that let the automation act, and so carry a digest.
APPROVING_OUTCOMES = frozenset({"approved", "edited"})


def approval_digest(*, action: str | None, final_text: str | None, payload: Any) -> str:
    """The digest of an approval of ``action`` with ``final_text`` and ``payload``."""
    return sha256_hex(canonical_json({"action": action, "payload": payload, "text": final_text}))
