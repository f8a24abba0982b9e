"""What a rule reports on one tick, before the lifecycle decides what it means.

A rule does not know whether an alert is open: it reports what it measured now (a
``Finding`` per problem it sees), and ``lifecycle`` turns that into an insert, a count going
up, a clear timer starting, or nothing. Keeping the two apart is what makes a tick
idempotent: measuring twice gives the same findings, and the lifecycle only counts
occurrences newer than what the alert already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows.config.brief import WorkflowConfig

REPEATED_ERROR = "repeated_error"
LATENCY = "latency"
ERROR_RATE = "error_rate"
TOKEN_SPIKE = "token_spike"  # noqa: S105 - a rule name, not a secret
STALE_HANDOFF = "stale_handoff"
CREDENTIAL_MISUSE = "credential_misuse"

RULES = (REPEATED_ERROR, LATENCY, ERROR_RATE, TOKEN_SPIKE, STALE_HANDOFF, CREDENTIAL_MISUSE)

#: How many occurrences a rule reads at most per tick; beyond it counts are lower bounds.
#: A flood of errors then costs the same as a steady trickle.
OCCURRENCES_MAX = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem a rule sees now, and the occurrences that make it up.

    ``occurrences`` are the times of the events counted (sorted, oldest first); the alert's
    ``count`` grows by those newer than its ``last_seen``. ``fire_at`` is how many
    occurrences since the last resolution it takes to open a new alert: five for the
    repeated-error rule, one for rules whose condition is already a threshold. Once open,
    an alert stays active while its rule reports it at all (hysteresis: no flapping).
    """

    rule: str
    fingerprint: str
    title: str
    threshold: str
    occurrences: tuple[datetime, ...]
    last_run_id: str | None = None
    sample: str | None = None
    details: dict[str, Any] | None = field(default=None)
    fire_at: int = 1
    escalate_now: bool = False
    """Open it already escalated (a stale handoff *is* the escalation to on-call)."""

    @property
    def last_seen(self) -> datetime:
        return self.occurrences[-1]


def clear_for(rule: str, policy: WorkflowConfig) -> timedelta:
    """How long a rule's condition must stay clear before its alert resolves itself.

    Rules that count occurrences in a window (repeated error, token misuse) report nothing
    only once the window holds no occurrence, which already means "clear for its window";
    threshold rules (latency, error rate, token spike) wait one more window, so a value
    hovering at the threshold does not resolve and re-fire every tick.
    """
    rules = policy.alerts
    return {
        LATENCY: rules.latency.window,
        ERROR_RATE: rules.error_rate.window,
        TOKEN_SPIKE: rules.token_spike.window,
    }.get(rule, timedelta(0))
