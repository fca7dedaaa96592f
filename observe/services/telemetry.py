"""The service's own Prometheus metrics (served on /metrics), one registry per app instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class SelfMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    _synced: dict[tuple[int, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        r = self.registry
        self.refresh_seconds = Histogram(
            "observe_refresh_duration_seconds", "Duration of one view refresh", ["kind"], registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip
        self.queries = Counter("observe_promql_queries_total", "PromQL queries issued", ["kind"], registry=r)
        # What the refresh waits for Prometheus itself: beside refresh_seconds, it tells our time from its.
        self.prometheus_seconds = Histogram(
            "observe_prometheus_answer_seconds", "Instant query sent → answer read, as observe sees Prometheus",
            registry=r, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip
        self.source_errors = Counter(
            "observe_source_errors_total", "Failed calls to a data source", ["source"], registry=r
        )
        self.cache = Counter("observe_view_requests_total", "Topology requests by cache outcome", ["outcome"],
                             registry=r)  # fmt: skip
        self.recording_rules = Gauge(
            "observe_recording_rules_in_use", "1 when live views read observe's recording rules", registry=r
        )
        self.views = Gauge("observe_live_views", "Live views refreshed in the background", registry=r)
        self.spans_received = Counter("observe_spans_received_total", "Spans accepted", ["origin"], registry=r)
        self.spans_rejected = Counter(
            "observe_spans_rejected_total", "Spans or requests refused by the receiver", ["reason"], registry=r
        )
        self.spans_dropped = Counter(
            "observe_spans_dropped_total", "Spans or requests dropped, by the bound they hit", ["reason"], registry=r
        )
        self.span_pairs = Counter("observe_span_pairs_total", "Pairing outcomes", ["outcome"], registry=r)
        self.trace_pending = Gauge("observe_trace_pairing_pending", "Spans waiting for their pair", registry=r)
        self.trace_store_spans = Gauge("observe_trace_store_spans", "Spans kept for the trace API", registry=r)
        self.source_calls = Counter(
            "observe_source_calls_total", "Calls to a data source by outcome: ok, error, rejected, skipped (backing "
            "off)", ["source", "outcome"], registry=r,
        )  # fmt: skip
        self.source_up = Gauge("observe_source_up", "1 when the source's last call succeeded", ["source"], registry=r)
        self.otlp_shed = Counter("observe_otlp_requests_shed_total", "OTLP requests answered 429 (receiver busy)",
                                 registry=r)  # fmt: skip
        self.otlp_inflight = Gauge("observe_otlp_inflight_bytes", "Body bytes of OTLP requests being handled",
                                   registry=r)  # fmt: skip
        self.http_requests = Counter(
            "observe_http_requests_total", "API requests by route and status", ["route", "status"], registry=r
        )

    def sync_counter(self, counter: Counter, label: str, total: float) -> None:
        """Advance `counter{label}` to `total`, a running count kept by the pure model."""
        key = (id(counter), label)
        delta = total - self._synced.get(key, 0.0)
        if delta > 0:
            counter.labels(label).inc(delta)
        self._synced[key] = total
