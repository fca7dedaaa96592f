"""Istio's standard HTTP metrics as one sidecar emits them: `istio_requests_total` and
`istio_request_duration_milliseconds`, with the 25 labels of the istio_stats filter, the values it
picks for each reporter (including its `unknown`/`latest` fallbacks) and Envoy's default histogram buckets.

The series are kept in a small custom collector rather than prometheus_client's Counter/Histogram so the
exposition matches Envoy's: bucket bounds printed like Envoy prints them (`le="1"`, not `le="1.0"`, so a
query for `le="250"` finds the bucket) and no `_created` series.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from observe.demo.identity import UNKNOWN, ServiceRef, WorkloadIdentity, namespace_of_principal

# Emission order of the istio_stats filter (reporter, peer info, then protocol/code/flags/security).
LABEL_NAMES: tuple[str, ...] = (
    "reporter",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_service_name",
    "destination_service_namespace",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
)

# Envoy HistogramSettingsImpl::defaultBuckets(), in milliseconds for request durations.
ENVOY_BUCKETS: tuple[float, ...] = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
    30000, 60000, 300000, 600000, 1800000, 3600000,
)  # fmt: skip

REQUESTS_TOTAL = "istio_requests_total"
REQUEST_DURATION = "istio_request_duration_milliseconds"
NO_FLAGS = "-"
LATEST = "latest"


def envoy_le(bound: float) -> str:
    """A bucket bound as Envoy prints it (`{:.32g}`): 0.5 → "0.5", 1 → "1", 3600000 → "3600000"."""
    return f"{bound:.32g}"


def _common(code: str, flags: str, security: str) -> dict[str, str]:
    # grpc_response_status is empty for plain HTTP: Envoy emits it empty and Prometheus drops it.
    return {
        "request_protocol": "http",
        "response_code": code,
        "grpc_response_status": "",
        "response_flags": flags or NO_FLAGS,
        "connection_security_policy": security,
    }


def destination_labels(
    local: WorkloadIdentity, peer: WorkloadIdentity | None, response_code: str, flags: str = NO_FLAGS
) -> dict[str, str]:
    """Labels of reporter="destination" (server sidecar). A peer header means the caller has a sidecar and
    talked mTLS; without one the caller is outside the mesh and the connection is plaintext."""
    mtls = peer is not None
    labels = {
        "reporter": "destination",
        "source_workload": peer.workload if peer else UNKNOWN,
        "source_canonical_service": peer.canonical_service if peer else UNKNOWN,
        "source_canonical_revision": peer.canonical_revision if peer else LATEST,
        "source_workload_namespace": peer.namespace if peer else UNKNOWN,
        "source_principal": peer.principal if peer else UNKNOWN,
        "source_app": peer.app if peer else UNKNOWN,
        "source_version": peer.version if peer else UNKNOWN,
        "source_cluster": peer.cluster if peer else UNKNOWN,
        "destination_workload": local.workload,
        "destination_workload_namespace": local.namespace,
        "destination_principal": local.principal if mtls else UNKNOWN,
        "destination_app": local.app,
        "destination_version": local.version,
        "destination_service": local.service.fqdn,
        "destination_canonical_service": local.canonical_service,
        "destination_canonical_revision": local.canonical_revision,
        "destination_service_name": local.service.name,
        "destination_service_namespace": local.namespace,
        "destination_cluster": local.cluster,
    }
    labels.update(_common(response_code, flags, "mutual_tls" if mtls else "none"))
    return labels


def source_labels(
    local: WorkloadIdentity,
    service: ServiceRef,
    peer: WorkloadIdentity | None,
    peer_principal: str | None,
    response_code: str,
    flags: str = NO_FLAGS,
) -> dict[str, str]:
    """Labels of reporter="source" (client sidecar).

    `peer` is the callee's MX response header (absent when no response came back: UF, UT, UO…);
    `peer_principal` is the identity presented at the TLS handshake (absent when no connection was made).
    Like Istio, the destination namespace falls back from the certificate to the MX metadata, and the
    destination service comes from the cluster metadata, so it is known even when the callee is down.
    """
    peer_ns = (namespace_of_principal(peer_principal) if peer_principal else None) or (peer.namespace if peer else None)
    labels = {
        "reporter": "source",
        "source_workload": local.workload,
        "source_canonical_service": local.canonical_service,
        "source_canonical_revision": local.canonical_revision,
        "source_workload_namespace": local.namespace,
        "source_principal": local.principal if peer_principal else UNKNOWN,
        "source_app": local.app,
        "source_version": local.version,
        "source_cluster": local.cluster,
        "destination_workload": peer.workload if peer else UNKNOWN,
        "destination_workload_namespace": peer_ns or UNKNOWN,
        "destination_principal": peer_principal or UNKNOWN,
        "destination_app": peer.app if peer else UNKNOWN,
        "destination_version": peer.version if peer else UNKNOWN,
        "destination_service": service.fqdn,
        "destination_canonical_service": peer.canonical_service if peer else UNKNOWN,
        "destination_canonical_revision": peer.canonical_revision if peer else LATEST,
        "destination_service_name": service.name,
        "destination_service_namespace": service.namespace,
        "destination_cluster": peer.cluster if peer else UNKNOWN,
    }
    labels.update(_common(response_code, flags, UNKNOWN))
    return labels


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(ENVOY_BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(ENVOY_BUCKETS):
            if value <= bound:
                self.buckets[i] += 1
        self.total += value
        self.count += 1


class IstioStats(Collector):
    """One sidecar's Istio series; registered in its own CollectorRegistry (one per workload)."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, ...], int] = {}
        self._durations: dict[tuple[str, ...], _Histogram] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def record(self, labels: dict[str, str], duration_ms: float) -> None:
        """Count one finished request (Istio records at stream end: counter and duration together)."""
        key = tuple(labels[name] for name in LABEL_NAMES)
        self._requests[key] = self._requests.get(key, 0) + 1
        self._durations.setdefault(key, _Histogram()).observe(max(duration_ms, 0.0))

    def requests(self) -> dict[tuple[str, ...], int]:
        """A copy of the counters keyed by label values in LABEL_NAMES order (for tests and debugging)."""
        return dict(self._requests)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        counter = CounterMetricFamily(REQUESTS_TOTAL, "Total requests (Istio standard metric)", labels=LABEL_NAMES)
        for key, value in self._requests.items():
            counter.add_metric(list(key), value)
        histogram = HistogramMetricFamily(
            REQUEST_DURATION, "Request duration in milliseconds (Istio standard metric)", labels=LABEL_NAMES
        )
        for key, hist in self._durations.items():
            buckets = [(envoy_le(b), float(c)) for b, c in zip(ENVOY_BUCKETS, hist.buckets, strict=True)]
            buckets.append(("+Inf", float(hist.count)))
            histogram.add_metric(list(key), buckets, hist.total)
        yield counter
        yield histogram
