"""The worker's own view of Slack's rate limits, and its retry backoff: pure, no I/O."""

from __future__ import annotations

import random

import pytest

from bot.outbox import Backoff, PacingSettings
from bot.outbox.pacing import Pacer

T0 = 1_767_600_000.0


def test_next_post_to_a_channel_waits_one_interval_after_the_answer() -> None:
    """Slack counts a post on arrival, so the next one may start a second after the answer."""
    pacer = Pacer(PacingSettings(channel_rate=1.0, channel_burst=1))

    assert pacer.acquire("C1", now=T0) is None
    pacer.finish("C1", at=T0 + 0.05)

    assert pacer.acquire("C1", now=T0 + 0.5) == pytest.approx(T0 + 1.05)
    assert pacer.acquire("C1", now=T0 + 1.05) is None


def test_other_channels_are_not_held_back() -> None:
    """A busy channel does not delay a post to another one."""
    pacer = Pacer()

    assert pacer.acquire("C1", now=T0) is None
    assert pacer.acquire("C2", now=T0) is None


def test_a_busy_channel_is_reported_not_ready_until_its_answer() -> None:
    """While a post is in flight its channel is held back; its answer fixes the time."""
    pacer = Pacer()
    pacer.acquire("C1", now=T0)

    assert pacer.not_ready(T0 + 5) == {"C1": T0 + 6}
    pacer.finish("C1", at=T0 + 5.2)
    assert pacer.not_ready(T0 + 5.5) == {"C1": pytest.approx(T0 + 6.2)}
    assert pacer.not_ready(T0 + 6.2) == {}


def test_a_429_blocks_the_channel_for_retry_after_and_takes_its_burst() -> None:
    """After a 429 nothing goes to that channel before Retry-After, then one at a time."""
    pacer = Pacer(PacingSettings(channel_burst=3))
    pacer.acquire("C1", now=T0)
    pacer.finish("C1", at=T0, retry_after=3)

    assert pacer.acquire("C1", now=T0 + 2) == pytest.approx(T0 + 3)
    assert pacer.acquire("C1", now=T0 + 3) is None
    pacer.finish("C1", at=T0 + 3)
    assert pacer.acquire("C1", now=T0 + 3) == pytest.approx(T0 + 4)


def test_updates_only_count_against_the_workspace_cap() -> None:
    """Updates skip the per-channel bucket but share the workspace's."""
    pacer = Pacer(PacingSettings(workspace_rate=2.0, workspace_burst=2))

    assert pacer.acquire(None, now=T0) is None
    assert pacer.acquire("C1", now=T0) is None
    assert pacer.acquire(None, now=T0) == pytest.approx(T0 + 0.5)


def test_backoff_grows_with_jitter_and_stays_bounded() -> None:
    """Each wait lies between half and all of min(maximum, initial * 2**(n-1))."""
    backoff = Backoff(initial=1.0, maximum=60.0)
    rng = random.Random(5)

    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (7, 60), (500, 60)]:
        for _ in range(20):
            assert ceiling / 2 <= backoff.delay(attempt, rng) <= ceiling


def test_asking_about_a_future_time_spends_nothing() -> None:
    """Looking ahead (the worker claims a little early) never makes a channel ready sooner."""
    pacer = Pacer()
    pacer.acquire("C1", now=T0)
    pacer.finish("C1", at=T0)

    pacer.not_ready(T0 + 5)

    assert pacer.acquire("C1", now=T0 + 0.5) == pytest.approx(T0 + 1)
