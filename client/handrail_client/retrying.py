"""Retrying an automation's own calls (a model, a tool) the way a careful person would.

Failures are sorted before anything is retried:

* **temporary** — HTTP 429, 502, 503 or 504, a timeout, a dropped connection, or a
  :class:`TemporaryFailure` — is retried with full-jitter backoff, up to the workflow's
  ``max_attempts`` (``retries.max_attempts`` in workflows.yml; the client reads it with
  ``HandrailClient.get_workflow``);
* **hard** — bad input, permission denied, invalid model output (:class:`HardFailure`,
  :class:`InvalidModelOutput`, HTTP 400/401/403/404/409/422, ``ValueError``,
  ``PermissionError``) and anything not known to be temporary — stops at once: sending the
  same thing again cannot make it right.

Either way the caller gets :class:`StepFailed`, which says which it was and how many
attempts were made, and carries the last error as its cause; the usual next move is
``run.park(...)``. Each retry is recorded in the run as a ``retry`` step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
)

from handrail_client.steps import clip
from handrail_client.transport import Sleep, Wait, default_wait

if TYPE_CHECKING:
    from handrail_client.runs import Run

T = TypeVar("T")
TEMPORARY_STATUSES = frozenset({429, 502, 503, 504})


class TemporaryFailure(Exception):
    """Raise this from a call to say: it may work if tried again later."""


class HardFailure(Exception):
    """Raise this from a call to say: trying again cannot help."""


class InvalidModelOutput(HardFailure):
    """The model answered, but not with something usable (bad JSON, missing fields)."""


class StepFailed(Exception):
    """A call failed for good: a hard failure at once, or temporary ones past the cap."""

    def __init__(self, name: str, *, attempts: int, temporary: bool, error: BaseException) -> None:
        kind = "still failing after" if temporary else "hard failure on"
        super().__init__(
            f"{name}: {kind} attempt {attempts}: {type(error).__name__}: {error}".rstrip(": ")
        )
        self.name = name
        self.attempts = attempts
        self.temporary = temporary
        self.error = error


def status_of(error: BaseException) -> int | None:
    """The HTTP status an error carries, as aiohttp, httpx, requests or SDKs put it."""
    for holder in (error, getattr(error, "response", None)):
        for attribute in ("status", "status_code"):
            value = getattr(holder, attribute, None)
            if isinstance(value, int):
                return value
    return None


def is_temporary(error: BaseException) -> bool:
    """Whether ``error`` is worth another attempt (see the module docstring)."""
    if isinstance(error, HardFailure):
        return False
    if isinstance(error, TemporaryFailure):
        return True
    status = status_of(error)
    if status is not None:
        return status in TEMPORARY_STATUSES
    if isinstance(error, TimeoutError | ConnectionError | httpx.TimeoutException):
        return True
    if isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError):
        return True
    # aiohttp's connection errors, recognised by name so the client need not install aiohttp.
    return any(kind.__name__ == "ClientConnectionError" for kind in type(error).__mro__)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    max_attempts: int,
    name: str = "call",
    run: Run | None = None,
    wait: Wait | None = None,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run ``call`` until it succeeds, retrying only temporary failures, ``max_attempts`` at most.

    ``run`` (optional) gets a ``retry`` step for every retry, with the error that caused it.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")

    def note_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if run is not None and error is not None:
            run.buffer(
                dict(
                    type="retry",
                    name=name[:200],
                    status="retrying",
                    error=clip(f"{type(error).__name__}: {error}"),
                    output={"attempt": state.attempt_number, "wait_s": state.upcoming_sleep},
                )
            )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_attempts),
        wait=wait if wait is not None else default_wait(),
        retry=retry_if_exception(is_temporary),
        sleep=sleep,
        before_sleep=note_retry,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await call()
    except RetryError as exc:
        error = exc.last_attempt.exception()
        assert error is not None  # tenacity gives up only on a failed attempt
        raise StepFailed(
            name, attempts=exc.last_attempt.attempt_number, temporary=True, error=error
        ) from error
    except Exception as error:
        number = retrying.statistics.get("attempt_number", 1)
        raise StepFailed(name, attempts=int(number), temporary=False, error=error) from error
    raise AssertionError("unreachable: tenacity either returns, raises or gives up")
