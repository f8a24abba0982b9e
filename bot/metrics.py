"""Prometheus metrics, on a registry owned by the app (no process-wide globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
