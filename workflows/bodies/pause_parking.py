"""Request bodies of the pause and parking endpoints of API v1, validated strictly.

Kept beside ``workflows.bodies.schemas`` and built on its ``RequestBody`` (unknown fields are
refused, every error names its place, numbers no store keeps are refused and NULs become
U+FFFD), so the client builds these bodies with the server's own models.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from workflows.bodies.schemas import LongText
from workflows.bodies.schemas import RequestBody as _Body


class PauseBody(_Body):
    reason: Annotated[str, Field(max_length=1000)] | None = None


class ResumeBody(_Body):
    note: Annotated[str, Field(max_length=1000)] | None = None


class ParkBody(_Body):
    """A job that cannot finish, with what a resume needs: where it stopped and what it had."""

    request_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    last_step: Annotated[str, Field(min_length=1, max_length=2000)]
    """The last step that completed; a resume continues after it. Required."""
    input_ref: Annotated[str, Field(max_length=2000)] | None = None
    """Where the job's input lives (a ticket, a file, a queue message), not the input."""
    extracted: Any = None
    """Fields extracted so far, so a resume does not redo them."""
    error: LongText | None = None
    """The full error that stopped the job."""


class ClaimBody(_Body):
    limit: Annotated[int, Field(ge=1, le=50)] = 1
