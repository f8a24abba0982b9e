"""Batch review: approve several pending cases of one workflow and action from one message.

The message lists the cases (at most ``BATCH_MAX``, what one button's value can name) and
its Approve all button carries their IDs with the workflow and action. Nothing on the
button is trusted: on the click every case is read again and must still be of that
workflow and action, the clicker must review it, and each is then approved on its own, as
its own Approve click would be (a claim recorded as its own decision, digest and audit
entry, or a vote when the action needs a quorum).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.models import Handoff
from workflows.errors import InvalidInput

#: Cases per batch message: each is a few blocks, and the button's value holds their IDs.
BATCH_MAX = 10


@dataclass(frozen=True, slots=True)
class Batch:
    """What an Approve all button names: the workflow, the action and the cases shown."""

    workflow: str
    action: str
    handoff_ids: tuple[str, ...]

    def to_value(self) -> str:
        return json.dumps({"w": self.workflow, "a": self.action, "ids": list(self.handoff_ids)})

    @classmethod
    def from_value(cls, value: str) -> Batch:
        """Read a button's value; a forged or broken one is refused with nothing done."""
        try:
            raw = json.loads(value)
            batch = cls(str(raw["w"]), str(raw["a"]), tuple(str(i) for i in raw["ids"]))
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(
                "this Approve all button is not one Handrail made; nothing was recorded",
                details=[{"loc": "value"}],
            ) from None
        if not 1 <= len(batch.handoff_ids) <= BATCH_MAX:
            raise InvalidInput(
                f"a batch holds 1 to {BATCH_MAX} cases; nothing was recorded",
                details=[{"loc": "value"}],
            )
        return batch

    def mismatch(self, handoff: Handoff | None) -> str | None:
        """Why ``handoff`` may not be approved with this batch, or None."""
        if handoff is None:
            return "no longer exists"
        if handoff.workflow != self.workflow or handoff.action != self.action:
            return f"is not a {self.action} case of {self.workflow}"
        if handoff.kind == "tool_failure" or handoff.shadow:
            return "cannot be approved in a batch"
        return None
