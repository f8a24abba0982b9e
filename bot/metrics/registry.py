"""Prometheus metrics, on a registry owned by the app (no process-wide globals).

Counters are this process's own. The waiting-work gauges are read from the database at
each scrape, so every instance reports the same installation-wide figures, and they stay
readable when Slack itself is down.

Under ``serve --workers N`` (``PROMETHEUS_MULTIPROC_DIR`` set, see ``bot.metrics.multiprocess``)
every process writes its values to files in that directory and a scrape, answered by
whichever worker the kernel picks, merges them all: counters and histograms are summed
across the processes. The database-read gauges are not process state, so they are kept
in ``mostrecent`` mode: the figures the answering worker just read, once, not N copies
added up.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from bot.metrics.multiprocess import shared_metrics_dir
from workflows.ledger.status import BACKLOG_STATES, BacklogLine, PendingLine


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.runs_started = Counter(
            "handrail_runs_started_total", "Runs started", ["workflow"], registry=self.registry
        )
        self.runs_finished = Counter(
            "handrail_runs_finished_total",
            "Runs finished, by final status",
            ["workflow", "status"],
            registry=self.registry,
        )
        self.events = Counter(
            "handrail_events_total", "Run steps stored", ["workflow"], registry=self.registry
        )
        self.errors = Counter(
            "handrail_errors_total",
            "Run steps that were errors",
            ["workflow"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "handrail_http_request_duration_seconds",
            "API request latency",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

        self.handoffs_pending = Gauge(
            "handrail_handoffs_pending",
            "Handoffs waiting for a reviewer's decision",
            ["workflow"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.handoffs_pending_oldest = Gauge(
            "handrail_handoffs_pending_oldest_age_seconds",
            "Age of the oldest handoff waiting for a decision (0 when none)",
            ["workflow"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.outbox_messages = Gauge(
            "handrail_outbox_messages",
            "Slack writes and webhooks not yet delivered, by outbox state",
            ["status"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.outbox_oldest = Gauge(
            "handrail_outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox row, by state (0 when none)",
            ["status"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.long_polls_waiting = Gauge(
            "handrail_long_polls_waiting",
            "Handoff long-polls (GET ?wait=) in this process waiting for a decision now",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def observe_waiting(
        self,
        *,
        workflows: Collection[str],
        pending: Collection[PendingLine],
        backlog: Collection[BacklogLine],
        now: datetime,
    ) -> None:
        """Set the waiting-work gauges; a workflow or state with nothing waiting reads 0.

        Earlier label sets are dropped first, so a workflow removed from workflows.yml
        stops being reported rather than keeping its last value.
        """
        for gauge in (self.handoffs_pending, self.handoffs_pending_oldest):
            gauge.clear()
        for name in workflows:
            self.handoffs_pending.labels(name).set(0)
            self.handoffs_pending_oldest.labels(name).set(0)
        for line in pending:
            self.handoffs_pending.labels(line.workflow).set(line.count)
            self.handoffs_pending_oldest.labels(line.workflow).set(_age(line.oldest_at, now))
        for state in BACKLOG_STATES:
            self.outbox_messages.labels(state).set(0)
            self.outbox_oldest.labels(state).set(0)
        for backlog_line in backlog:
            self.outbox_messages.labels(backlog_line.status).set(backlog_line.count)
            self.outbox_oldest.labels(backlog_line.status).set(_age(backlog_line.oldest_at, now))

    def render(self) -> bytes:
        """The text exposition: this process's registry, or every worker's files merged."""
        directory = shared_metrics_dir()
        if directory is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(directory))  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def _age(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds())
