"""The outbox worker's knobs, with defaults that suit one instance talking to real Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.outbox.outcomes import Backoff
from bot.outbox.pacing import PacingSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSettings:
    """How many, how fast, how long and how often."""

    concurrency: int = 16
    """Deliveries in flight at once (different channels go out side by side); a post
    waiting out its ``lead`` holds a slot, so keep this above the busy channels' count."""
    max_attempts: int = 200
    """Attempts before a row is failed with its last error; 429s are not counted. With the
    backoff capped at ten minutes, 200 attempts outlast a Slack outage of more than a day:
    an outage delays delivery, it does not drop it."""
    backoff: Backoff = field(default_factory=Backoff)
    pacing: PacingSettings = field(default_factory=PacingSettings)
    lease: timedelta = timedelta(minutes=2)
    """How long a claim lasts; a worker that stops mid-delivery loses its rows after it."""
    lead: float = 0.1
    """A post is claimed and rendered up to this long before its channel is ready, then
    sent on the dot: without it, claiming and rendering after the slot opens would add
    their time to every message of a busy channel."""
    poll_interval: float = 0.2
    """Longest idle sleep; ``wake()`` and due rows cut it short."""
    slack_timeout: float = 10.0
    webhook_timeout: float = 10.0
    history_lookback: timedelta = timedelta(minutes=10)
    """How far before a row was queued the "already posted?" lookup reads (clock skew)."""
    history_pages: int = 5
    """Pages of 200 messages that lookup reads at most."""
    parent_wait: float = 1.0
    """Seconds a thread reply waits for the message it replies to before it looks again."""
    access_wait: float = 60.0
    """Seconds between tries while Slack refuses access (a missing scope, the bot not in
    the channel): the row waits for the operator's fix instead of failing."""
    drain_timeout: float = 15.0
    """On stop, how long deliveries in flight may finish before they are cancelled."""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")
        slowest = self.slack_timeout * (self.history_pages + 1)
        if self.lease.total_seconds() <= max(slowest, self.webhook_timeout):
            raise ValueError(
                f"lease ({self.lease.total_seconds():g} s) must outlast the slowest delivery "
                f"({max(slowest, self.webhook_timeout):g} s), or two workers could send one row"
            )

    @property
    def attempt_deadline(self) -> float:
        """Every attempt is settled well inside its lease."""
        return self.lease.total_seconds() * 0.75
