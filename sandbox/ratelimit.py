"""Slack's rate limits as token buckets on the emulator's clock.

Slack allows about one ``chat.postMessage`` per second per channel "with short bursts", and
answers beyond that with HTTP 429 and a ``Retry-After`` header. Handrail's outbox must honour
that header, so the emulator's value is honest: the whole seconds until a token is back.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sandbox.clock import Seconds


@dataclass
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; one token per call."""

    rate: float
    burst: int
    clock: Seconds
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {self.rate}, {self.burst}")
        self.tokens = float(self.burst)
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until a call would be allowed; 0 when it would be now."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend one token (call only after ``wait_time()`` returned 0)."""
        self.tokens -= 1


def retry_after(wait: float) -> int:
    """Slack's Retry-After: whole seconds, never 0, never shorter than the real wait."""
    return max(1, math.ceil(wait))


WRITE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})
"""The calls the optional workspace-wide cap counts: every message write."""


class RateLimiter:
    """Per-channel buckets for chat.postMessage, an optional workspace cap, random 429s."""

    def __init__(
        self,
        *,
        clock: Seconds,
        post_rate: float | None,
        post_burst: int,
        workspace_rate: float | None,
        workspace_burst: int,
        random_429: float,
        seed: int | None,
    ) -> None:
        self._clock = clock
        self._post_rate = post_rate
        self._post_burst = post_burst
        self._workspace_rate = workspace_rate
        self._workspace_burst = workspace_burst
        self.random_429 = random_429
        self._random = random.Random(seed)  # noqa: S311 - chaos, not cryptography
        self._channels: dict[str, TokenBucket] = {}
        self._workspace: TokenBucket | None = None
        self.reset()

    def reset(self) -> None:
        """Forget all spent tokens: every bucket starts full again."""
        self._channels.clear()
        self._workspace = (
            None
            if self._workspace_rate is None
            else TokenBucket(self._workspace_rate, self._workspace_burst, self._clock)
        )

    def check(self, method: str, channel: str | None) -> int | None:
        """Retry-After seconds if this call is limited now, else None (and a token is spent)."""
        if self.random_429 > 0 and self._random.random() < self.random_429:
            return 1
        buckets: list[TokenBucket] = []
        if self._workspace is not None and method in WRITE_METHODS:
            buckets.append(self._workspace)
        if method == "chat.postMessage" and channel and self._post_rate is not None:
            bucket = self._channels.get(channel)
            if bucket is None:
                bucket = TokenBucket(self._post_rate, self._post_burst, self._clock)
                self._channels[channel] = bucket
            buckets.append(bucket)
        wait = max((bucket.wait_time() for bucket in buckets), default=0.0)
        if wait > 0:
            return retry_after(wait)
        for bucket in buckets:
            bucket.take()
        return None
