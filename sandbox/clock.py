"""Time for the emulator, injectable so tests move it instead of sleeping.

Everything in the emulator that depends on time (message timestamps, trigger_id expiry,
rate-limit buckets, response_url expiry) reads one clock. A clock is any zero-argument
callable returning Unix seconds or an aware ``datetime``, so the emulator can share one
clock with Handrail (``workflows.clock.ManualClock`` returns datetimes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], "float | datetime"]
"""Zero-argument callable: Unix seconds, or an aware datetime."""
Seconds = Callable[[], float]
"""A clock already read as Unix seconds: what the emulator's parts use inside."""


def seconds(clock: Clock) -> Seconds:
    """The clock read as Unix seconds, whichever kind it is."""

    def now() -> float:
        value = clock()
        return value.timestamp() if isinstance(value, datetime) else float(value)

    return now


class ManualClock:
    """A clock that only moves when told to, so expiry and refill are tested without sleeps."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0) -> float:
        """Move forward (``advance(2.5)``, ``advance(minutes=5)``); returns the new time."""
        step = seconds + minutes * 60
        if step < 0:
            raise ValueError(f"a clock cannot go back: advance by {step} s")
        self._now += step
        return self._now

    def set(self, now: float) -> None:
        """Put the clock at ``now`` (Unix seconds)."""
        self._now = now
