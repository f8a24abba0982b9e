"""What the client raises: the server's error JSON as typed exceptions, and "unavailable".

The server answers every refusal as ``{"error": {"code", "message", "details"}}``; each
status becomes its own class so an automation can ``except WorkflowPaused`` instead of
comparing numbers. Transient answers (429, 5xx) are retried by the transport; only when
retries run out does the caller see them, wrapped in :class:`HandrailUnavailable`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from handrail_client.payloads import loads


class HandrailClientError(Exception):
    """Base of everything the Handrail client raises on purpose."""


class HandrailAPIError(HandrailClientError):
    """The server answered with an error; ``code`` and ``message`` are its own words."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details or [])


class InvalidRequest(HandrailAPIError):
    """400, 413 or 422: the request itself is wrong; sending it again cannot help."""


class Unauthorized(HandrailAPIError):
    """401: the token is missing, unknown, expired or revoked."""


class PermissionDenied(HandrailAPIError):
    """403: the token is valid but lacks the scope for this call."""


class RunNotFound(HandrailAPIError):
    """404: the run (or whatever the path names) does not exist in this token's workflow."""


class ConflictError(HandrailAPIError):
    """409: the request clashes with the run's state, e.g. steps sent to a finished run."""


class WorkflowPaused(HandrailAPIError):
    """423: the workflow is paused; nothing may go out until an admin resumes it."""


class RateLimited(HandrailAPIError):
    """429: the server asked us to slow down, optionally saying for how long."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, details)
        self.retry_after = retry_after


class ServerError(HandrailAPIError):
    """5xx: the server or a proxy in front of it failed; worth retrying."""


class HandrailUnavailable(HandrailClientError):
    """Handrail could not be reached within the retry budget; nothing was dropped silently.

    ``status`` is the last HTTP status seen (``None`` when the last attempt got no answer)
    and ``error`` the last failure itself, so the caller can log the real cause.
    """

    def __init__(self, message: str, *, attempts: int, error: BaseException) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.error = error
        self.status = error.status if isinstance(error, HandrailAPIError) else None


_BY_STATUS: dict[int, type[HandrailAPIError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: PermissionDenied,
    404: RunNotFound,
    409: ConflictError,
    413: InvalidRequest,
    422: InvalidRequest,
    423: WorkflowPaused,
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> HandrailAPIError:
    """The typed exception for an error answer; a non-JSON body (a proxy's page) is quoted."""
    code, message, details = f"http_{status}", "", []
    try:
        payload = loads(body)
    except ValueError:  # not JSON, or not UTF-8
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or "")
        raw_details = error.get("details")
        if isinstance(raw_details, list):
            details = [d if isinstance(d, dict) else {"message": str(d)} for d in raw_details]
    if not message:
        text = body.decode("utf-8", "replace").strip()
        message = " ".join(text.split())[:500] or "no error body"
    if status == 429:
        return RateLimited(
            status,
            code,
            message,
            details,
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )
    if status >= 500:
        return ServerError(status, code, message, details)
    cls = _BY_STATUS.get(status, HandrailAPIError)
    return cls(status, code, message, details)


class MissingConfiguration(HandrailClientError, ValueError):
    """The client was not told where Handrail is or which token to use."""


class NoCurrentRun(HandrailClientError, RuntimeError):
    """A gated call was made outside any run, so there is nothing to ask the gate about."""


class NotApproved(HandrailClientError):
    """A gated function did not run: no person approved it.

    ``decision`` is the outcome as the client read it (its ``status``, ``reviewer`` and
    ``reason`` say what happened).
    """

    def __init__(self, message: str, *, decision: Any) -> None:
        super().__init__(message)
        self.decision = decision


class ApprovalRejected(NotApproved):
    """A reviewer rejected the action, or the workflow's policy denied it."""


class ApprovalExpired(NotApproved):
    """Nobody decided before the handoff's review timeout ran out."""


class UnresolvedRedactions(NotApproved):
    """The approved text still holds ``[REDACTED:kind]`` placeholders that cannot be undone."""


class WebhookVerificationFailed(HandrailClientError):
    """A webhook's signature, timestamp or headers do not check out: do not act on it."""


class ShadowOnly(NotApproved):
    """The workflow runs in shadow mode: the case was posted for comparison, never to act."""


class ActRefused(HandrailClientError):
    """A person approved, but the server refused the act on that approval (used already,
    another digest, held by a pause…), so the gated function did not run.

    ``decision`` is the approval as read; ``error`` is the server's refusal, whose
    ``message`` says why.
    """

    def __init__(self, message: str, *, decision: Any, error: HandrailAPIError) -> None:
        super().__init__(message)
        self.decision = decision
        self.error = error
