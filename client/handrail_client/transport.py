"""One HTTP call to Handrail, retried with a hard cap.

Every call is bounded twice: by ``max_attempts`` and by a total ``deadline`` in seconds
(a wait that would cross the deadline is not started). Only transient failures are retried
— no answer at all, a timeout, 429 (honouring ``Retry-After``) and 5xx — and every retry
resends the very same bytes, so the server's de-duplication (client event IDs, client run
IDs, idempotent finish) turns a retry after a lost answer into a no-op. Anything else raises
at once; a failure that outlasts the budget raises :class:`HandrailUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from handrail_client.errors import (
    HandrailUnavailable,
    RateLimited,
    ServerError,
    error_from_response,
)
from handrail_client.payloads import dumps, loads

log = logging.getLogger("handrail.client")

Wait = Callable[[RetryCallState], float]
Sleep = Callable[[float], Awaitable[None]]

USER_AGENT = "handrail-client/0.1"


def default_wait() -> Wait:
    """Full-jitter exponential backoff, so many automations retrying do not stampede."""
    return wait_random_exponential(multiplier=0.5, max=20)


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: no answer, a timeout, a rate limit or a server failure."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        return False  # a wrong base URL: another attempt cannot help
    return isinstance(exc, httpx.TransportError | TimeoutError | RateLimited | ServerError)


class WaitRetryAfter(wait_base):
    """Wait as the server asked on a 429 (never less), else as ``fallback`` says."""

    def __init__(self, fallback: Wait) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = float(self.fallback(retry_state))
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(delay, error.retry_after)
        return delay


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Transport:
    """An httpx connection pool plus the retry policy; the client's methods are thin over it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float,
        max_attempts: int,
        deadline: float,
        wait: Wait | None,
        sleep: Sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.deadline = deadline
        self.wait = WaitRetryAfter(wait if wait is not None else default_wait())
        self.sleep = sleep
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._session: httpx.AsyncClient | None = None
        self._closed = False

    def _open(self) -> httpx.AsyncClient:
        # Created on first use, so a client built outside any event loop binds to the one
        # it is used in.
        if self._closed:
            raise RuntimeError("this Handrail client is closed; create a new one")
        if self._session is None:
            self._session = httpx.AsyncClient(headers=self._headers)
        return self._session

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.aclose()
            self._session = None

    def url(self, *segments: str, **query: str) -> httpx.URL:
        """``base_url`` joined with path segments, each quoted on its own."""
        path = "/".join(quote(segment, safe="") for segment in segments)
        return httpx.URL(f"{self.base_url}/{path}", params=query or None)

    async def request(
        self, method: str, url: httpx.URL, body: Any = None, *, attempt_timeout: float | None = None
    ) -> Any:
        """Send one call with retries; return the decoded JSON answer (or ``None``).

        ``body`` is encoded as JSON, unless it is ``bytes``: JSON encoded already.
        """
        payload = body if isinstance(body, bytes) or body is None else dumps(body)
        per_attempt = attempt_timeout if attempt_timeout is not None else self.timeout
        started = time.monotonic()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.deadline),
            wait=self.wait,
            retry=retry_if_exception(is_transient),
            sleep=self.sleep,
            before_sleep=lambda state: self._log_retry(method, url, state),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    left = self.deadline - (time.monotonic() - started)
                    limit = max(min(per_attempt, left), 0.001)
                    return await self._send(method, url, payload, limit)
        except RetryError as exc:
            error = exc.last_attempt.exception()
            assert error is not None  # tenacity only gives up on a failed attempt
            attempts = exc.last_attempt.attempt_number
            raise HandrailUnavailable(
                f"{method} {url.path} failed after {attempts} attempt(s) in "
                f"{time.monotonic() - started:.1f} s (budget: {self.max_attempts} attempts, "
                f"{self.deadline:g} s); last error: {_describe(error)}",
                attempts=attempts,
                error=error,
            ) from error
        raise AssertionError("unreachable: tenacity either returns, raises or gives up")

    async def _send(self, method: str, url: httpx.URL, payload: bytes | None, limit: float) -> Any:
        session = self._open()
        # httpx bounds each phase (connect, read...); the attempt as a whole is bounded here.
        async with asyncio.timeout(limit):
            response = await session.request(
                method, url, content=payload, timeout=httpx.Timeout(limit + 1.0)
            )
        raw = response.content
        if response.status_code >= 400:
            raise error_from_response(response.status_code, raw, response.headers)
        return loads(raw) if raw else None

    @staticmethod
    def _log_retry(method: str, url: httpx.URL, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning(
            "handrail: %s %s failed (%s), attempt %d; retrying in %.2f s",
            method,
            url.path,
            _describe(error),
            state.attempt_number,
            state.upcoming_sleep,
        )
