"""The platform's Prometheus metrics (DESIGN.md, "Metrics", platform side), declared once on
an explicit registry that the app exposes on /metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class PlatformMetrics:
    registry: CollectorRegistry
    http_requests: Counter
    http_duration: Histogram
    faults_injected: Counter
    sync_lag: Gauge


def build_metrics() -> PlatformMetrics:
    registry = CollectorRegistry(auto_describe=True)
    return PlatformMetrics(
        registry=registry,
        http_requests=Counter(
            "anef_platform_http_requests",
            "HTTP requests answered by the platform.",
            ["route", "method", "status"],
            registry=registry,
        ),
        http_duration=Histogram(
            "anef_platform_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        ),
        faults_injected=Counter(
            "anef_platform_fault_injected",
            "Faults fired by the injector (each also written to the ledger).",
            ["fault"],
            registry=registry,
        ),
        sync_lag=Gauge(
            "anef_platform_sync_lag_seconds",
            "Age of the oldest message waiting in either outbox of the sync bridge.",
            registry=registry,
        ),
    )
