"""The service's own Prometheus metrics (served on /metrics), one registry per app instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class SelfMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.refresh_seconds = Histogram(
            "observe_refresh_duration_seconds", "Duration of one view refresh", ["kind"], registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip
        self.queries = Counter("observe_promql_queries_total", "PromQL queries issued", ["kind"], registry=r)
        self.source_errors = Counter(
            "observe_source_errors_total", "Failed calls to a data source", ["source"], registry=r
        )
        self.cache = Counter("observe_view_requests_total", "Topology requests by cache outcome", ["outcome"],
                             registry=r)  # fmt: skip
        self.views = Gauge("observe_live_views", "Live views refreshed in the background", registry=r)
        self.http_requests = Counter(
            "observe_http_requests_total", "API requests by route and status", ["route", "status"], registry=r
        )
