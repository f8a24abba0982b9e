"""Slack's posting limits, kept on our side so the worker rarely meets a 429.

Slack allows about one ``chat.postMessage`` per second per channel with short bursts, and
several hundred message writes a minute per workspace. The pacer keeps a token bucket per
channel (one post in flight per channel at a time) and one for the workspace (posts and
updates). A channel that is not ready is not waited for: the worker leaves its rows in the
database unclaimed (or puts a row back until the moment the pacer names) and sleeps until
the earliest channel is nearly ready, so a backlog costs no busy loop and no sleeping task;
only the last ``lead`` (0.1 s) before a slot is waited out, with the message rendered.

Times are Unix seconds read from the worker's clock; nothing here sleeps or does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingSettings:
    """How fast Handrail writes to Slack."""

    channel_rate: float = 1.0
    """Posts per second per channel (Slack: about 1)."""
    channel_burst: int = 1
    """Posts a quiet channel may take back to back."""
    workspace_rate: float = 20.0
    """Message writes (posts and updates) per second across the workspace.

    Slack publishes no exact workspace figure ("several hundred a minute"); this cap is a
    safety net against a runaway backlog, kept well above ten busy channels at 1/s so it
    never becomes the pace, and a 429 beyond it is honoured like any other.
    """
    workspace_burst: int = 20
    cooldown: float = 30.0
    """Seconds after a 429 during which that channel gets no burst."""

    def __post_init__(self) -> None:
        if self.channel_rate <= 0 or self.workspace_rate <= 0:
            raise ValueError("rates must be positive")
        if self.channel_burst < 1 or self.workspace_burst < 1:
            raise ValueError("bursts must be at least 1")


@dataclass(slots=True)
class Bucket:
    """``burst`` tokens refilled at ``rate`` per second; a call spends one.

    Reading never changes it (the worker asks about future times); only ``spend`` does.
    """

    rate: float
    burst: int
    tokens: float
    updated: float

    def level(self, at: float, *, burst: int | None = None) -> float:
        """Tokens at ``at`` (no earlier than the last change)."""
        cap = float(self.burst if burst is None else burst)
        return min(cap, self.tokens + max(0.0, at - self.updated) * self.rate)

    def ready_at(self, now: float, *, burst: int | None = None) -> float:
        """When one token will be there (``now`` if it is already)."""
        level = self.level(now, burst=burst)
        return now if level >= 1 else now + (1 - level) / self.rate

    def spend(self, at: float, *, burst: int | None = None) -> None:
        self.tokens = self.level(at, burst=burst) - 1
        self.updated = max(self.updated, at)


@dataclass(slots=True)
class _Channel:
    bucket: Bucket
    blocked_until: float = 0.0
    calm_after: float = 0.0
    """No burst before this time (set by a 429)."""
    in_flight_since: float | None = None
    latency: float = 0.0
    """How long the last post took to answer: part of when the channel is ready again."""


@dataclass
class Pacer:
    """Per-channel and workspace buckets for ``chat.postMessage`` and ``chat.update``.

    A post's token is spent when Slack's answer arrives, not when the call starts: Slack
    counts the call when it arrives, which is never later than its answer, so the next
    post of that channel can never reach Slack sooner than one interval after the last.
    """

    settings: PacingSettings = field(default_factory=PacingSettings)
    _channels: dict[str, _Channel] = field(default_factory=dict, init=False)
    _workspace: Bucket | None = field(default=None, init=False)

    @property
    def interval(self) -> float:
        return 1.0 / self.settings.channel_rate

    def _channel(self, channel: str, now: float) -> _Channel:
        state = self._channels.get(channel)
        if state is None:
            burst = self.settings.channel_burst
            bucket = Bucket(self.settings.channel_rate, burst, float(burst), now)
            state = self._channels[channel] = _Channel(bucket)
        return state

    def _workspace_bucket(self, now: float) -> Bucket:
        if self._workspace is None:
            burst = self.settings.workspace_burst
            self._workspace = Bucket(self.settings.workspace_rate, burst, float(burst), now)
        return self._workspace

    def _channel_ready_at(self, state: _Channel, now: float) -> float:
        if state.in_flight_since is not None:
            # Known when the answer comes (which wakes the worker); until then a guess from
            # the last answer's delay, never "now": one post per channel is in flight.
            guess = state.in_flight_since + state.latency + self.interval
            return max(guess, now + self.interval, state.blocked_until)
        burst = 1 if now < state.calm_after else None
        return max(state.bucket.ready_at(now, burst=burst), state.blocked_until)

    def acquire(self, channel: str | None, *, now: float) -> float | None:
        """Take the right to write to ``channel`` now (None), or say when it comes.

        ``channel=None`` is an update: only the workspace cap applies.
        """
        workspace = self._workspace_bucket(now)
        workspace_ready = workspace.ready_at(now)
        if channel is None:
            if workspace_ready <= now:
                workspace.spend(now)
                return None
            return workspace_ready
        state = self._channel(channel, now)
        ready = max(self._channel_ready_at(state, now), workspace_ready)
        if ready > now:
            return ready
        state.in_flight_since = now
        workspace.spend(now)
        return None

    def not_ready(self, now: float) -> dict[str, float]:
        """Channels that cannot take a post now, with when they (probably) can.

        The worker leaves their rows in the database instead of claiming them only to put
        them back, and wakes up at the earliest of these times.
        """
        return {
            channel: ready
            for channel, state in self._channels.items()
            if (ready := self._channel_ready_at(state, now)) > now
        }

    def finish(self, channel: str | None, *, at: float, retry_after: float | None = None) -> None:
        """Record the answer to a write acquired for ``channel`` (``at``: when it came).

        ``retry_after`` (a 429) blocks the channel until then, spends nothing (Slack did
        not count the call) and takes the channel's burst away for the cool-down.
        """
        if channel is None:
            return
        state = self._channel(channel, at)
        if state.in_flight_since is not None:
            state.latency = max(0.0, at - state.in_flight_since)
        state.in_flight_since = None
        if retry_after is None:
            state.bucket.spend(at, burst=1 if at < state.calm_after else None)
            return
        until = at + retry_after
        state.blocked_until = max(state.blocked_until, until)
        state.calm_after = until + self.settings.cooldown
        state.bucket.tokens = min(state.bucket.tokens, 0.0)
        state.bucket.updated = max(state.bucket.updated, until - self.interval)

    def release(self, channel: str | None) -> None:
        """Forget an acquired write that was never sent (the message was found already
        posted, or the look for it failed)."""
        if channel is not None and channel in self._channels:
            self._channels[channel].in_flight_since = None
