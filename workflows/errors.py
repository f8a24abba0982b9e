"""The one error hierarchy of Handrail.

Each error carries a message a person can act on and, where it helps, the place that was
wrong (``details``: one entry per problem, each naming its ``loc``). The HTTP API maps these
to status codes in one place (``bot/api/errors.py``); Slack handlers map them to an
ephemeral reply or a modal error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class HandrailError(Exception):
    """Base of every error Handrail raises on purpose."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, details: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class InvalidInput(HandrailError):
    """The request was understood but a value in it is wrong."""

    code = "invalid_input"
    status = 422


class Unauthenticated(HandrailError):
    """No credential, or one that is unknown, expired or revoked."""

    code = "unauthenticated"
    status = 401


class Forbidden(HandrailError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403


class NotFound(HandrailError):
    """The thing asked for does not exist, or belongs to another workflow."""

    code = "not_found"
    status = 404


class Conflict(HandrailError):
    """The request clashes with the current state (already decided, already finished)."""

    code = "conflict"
    status = 409


class Paused(HandrailError):
    """The workflow is paused: nothing may go out until an admin resumes it."""

    code = "paused"
    status = 423


class ConfigError(HandrailError):
    """``workflows.yml`` or the settings are wrong; start-up stops with every problem listed."""

    code = "config_error"
    status = 500

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Handrail cannot start: {len(self.problems)} problem(s)\n{lines}")
