"""What one delivery attempt came to, and when a failed one is tried again.

Senders (Slack, webhooks) return an outcome instead of writing to the database, so the
worker records every attempt in one place and the senders stay testable on their own.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState, Retrying, wait_exponential


@dataclass(frozen=True, slots=True)
class Delivered:
    """Accepted: ``result`` is stored on the row (``{"channel", "ts"}`` for Slack)."""

    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Failed:
    """Will never succeed as it is (a hard Slack error, a 4xx): kept with the full error.

    ``slack_error`` is Slack's code and ``needed`` the scope a ``missing_scope`` names, so
    access problems an operator can fix are told apart from content Slack refuses.
    """

    error: str
    slack_error: str = ""
    needed: str = ""


@dataclass(frozen=True, slots=True)
class Retry:
    """Worth trying again: after ``after`` seconds, or after the backoff when None.

    ``maybe_sent`` says the receiver may have acted on it (a timeout, a 5xx), so a Slack
    post must be looked for before it is posted again; ``counts`` is False for a 429,
    which is Slack naming a time, not a failed attempt.
    """

    error: str
    after: float | None = None
    maybe_sent: bool = False
    counts: bool = True


@dataclass(frozen=True, slots=True)
class Later:
    """Not attempted (paced, or waiting for the message it replies to): back at ``at``."""

    at: float


Outcome = Delivered | Failed | Retry | Later

#: The longest a ``Retry-After`` is waited: the longest backoff. A receiver asking for
#: more (or for ``1e999`` seconds) is waited this long, and then asked again.
RETRY_AFTER_MAX = 600.0


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds, from 1 to ``RETRY_AFTER_MAX``; None if absent
    or not a number of seconds (an HTTP date, which Slack never sends, counts as absent)."""
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return None if math.isnan(seconds) else min(max(1.0, seconds), RETRY_AFTER_MAX)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Exponential backoff with jitter, bounded: tenacity's schedule for a retried row.

    The retry loop is the outbox row itself: its attempts and next time are stored, so a
    crash or a restart keeps its place, and no worker slot is held while it waits.
    tenacity's ``wait_exponential`` gives the ceiling for attempt ``n``, ``min(maximum,
    initial * 2 ** (n - 1))``; the wait is between half and all of it. The jitter spreads
    retries after an outage so they do not all land at once, and the half floor keeps a
    retry from coming back at once.
    """

    initial: float = 1.0
    maximum: float = 600.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = max(1, attempt)
        ceiling = wait_exponential(multiplier=self.initial, max=self.maximum)(state)
        return ceiling * (0.5 + 0.5 * rng.random())
