"""The topology query plan over Istio's standard metrics (DESIGN §3), and parsing of its answers.

Per refresh, mesh-wide (never per namespace), grouped by the few labels the graph type needs:
  rates:     sum by (edge, reporter, code, flags) (rate(istio_requests_total{reporter="destination"}[W]))
             or the same with reporter="source", destination_workload="unknown" — requests that reached no
             workload (UH, UF, UO, NR …) are only known to the caller's sidecar; one query, one timestamp.
  quantiles: histogram_quantile(q, sum by (le, edge) (rate(…_bucket{reporter="destination"}[W]))) for
             q in 0.5/0.95/0.99, unioned into one query; run on a slower cadence than the rates.
So a refresh costs one or two queries whatever the number of namespaces; namespace selection is applied to
the answer, which lets every viewer of any namespace set share one query set.
"""

from __future__ import annotations

from observe.model.ids import GraphType
from observe.model.samples import EdgeLabels, LatencyQuantile, Reporter, RequestRate, VectorSample, Workload
from observe.sources.promql import eq, quantiles_union, sum_rate

REQUESTS = "istio_requests_total"
DURATION_BUCKETS = "istio_request_duration_milliseconds_bucket"
QUANTILES = (0.5, 0.95, 0.99)

_FINE = (
    "source_workload_namespace", "source_workload", "source_canonical_service", "source_canonical_revision",
    "destination_workload_namespace", "destination_workload", "destination_canonical_service",
    "destination_canonical_revision", "destination_service", "request_protocol",
)  # fmt: skip
_APP = tuple(label for label in _FINE if not label.endswith("_revision"))
_SERVICE = (
    "source_workload_namespace", "source_workload", "source_canonical_service",
    "destination_workload_namespace", "destination_workload", "destination_service", "request_protocol",
)  # fmt: skip
EDGE_LABELS: dict[GraphType, tuple[str, ...]] = {
    GraphType.VERSIONED_APP: _FINE,
    GraphType.WORKLOAD: _FINE,
    GraphType.APP: _APP,
    GraphType.SERVICE: _SERVICE,
}
RESPONSE_LABELS = ("reporter", "response_code", "response_flags")


def rates_query(graph: GraphType, window_s: float) -> str:
    by = EDGE_LABELS[graph] + RESPONSE_LABELS
    served = sum_rate(REQUESTS, [eq("reporter", "destination")], by, window_s)
    unreached = sum_rate(
        REQUESTS, [eq("reporter", "source"), eq("destination_workload", "unknown")], by, window_s
    )
    return f"{served} or {unreached}"


def quantiles_query(graph: GraphType, window_s: float, quantiles: tuple[float, ...] = QUANTILES) -> str:
    inner = sum_rate(DURATION_BUCKETS, [eq("reporter", "destination")], ("le", *EDGE_LABELS[graph]), window_s)
    return quantiles_union(quantiles, inner)


def _side(labels: dict[str, str], prefix: str) -> Workload:
    return Workload(
        namespace=labels.get(f"{prefix}_workload_namespace", ""),
        workload=labels.get(f"{prefix}_workload", ""),
        app=labels.get(f"{prefix}_canonical_service", ""),
        version=labels.get(f"{prefix}_canonical_revision", ""),
    )


def edge_labels(labels: dict[str, str]) -> EdgeLabels:
    return EdgeLabels(
        source=_side(labels, "source"),
        destination=_side(labels, "destination"),
        destination_service=labels.get("destination_service", ""),
        protocol=labels.get("request_protocol", "http"),
    )


def parse_rates(samples: list[VectorSample]) -> list[RequestRate]:
    rates = []
    for sample in samples:
        labels = sample.labels
        reporter = Reporter.SOURCE if labels.get("reporter") == "source" else Reporter.DESTINATION
        rates.append(
            RequestRate(
                edge=edge_labels(labels),
                reporter=reporter,
                response_code=labels.get("response_code", "0"),
                response_flags=labels.get("response_flags", "-"),
                rps=sample.value,
            )
        )
    return rates


def parse_quantiles(samples: list[VectorSample]) -> list[LatencyQuantile]:
    return [
        LatencyQuantile(edge=edge_labels(s.labels), quantile=float(s.labels["quantile"]), value_ms=s.value)
        for s in samples
        if "quantile" in s.labels
    ]
