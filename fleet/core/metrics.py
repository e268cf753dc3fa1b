"""Prometheus metrics of the whole service: requests, ingests and jobs, in one registry."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "fleet_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "fleet_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
INGEST_LINES = Counter(
    "fleet_ingest_lines_total",
    "Feed lines of finished ingest runs: received, accepted, duplicate, rejected.",
    ["result"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "fleet_job_runs_total",
    "Attempts of scheduled jobs, by job and outcome.",
    ["job", "outcome"],
    registry=REGISTRY,
)


def count_ingest(report: Any) -> None:
    """Adds a finished ingest run's counts (an IngestReport) to the ingest counters."""
    for result in ("received", "accepted", "duplicate", "rejected"):
        INGEST_LINES.labels(result=result).inc(getattr(report, result))
