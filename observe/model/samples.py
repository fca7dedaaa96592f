"""Typed samples: what the metrics sources hand the model, free of any Prometheus response format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reporter(StrEnum):
    SOURCE = "source"
    DESTINATION = "destination"


@dataclass(frozen=True, slots=True)
class Workload:
    """One side of a request as Istio labels it. Missing labels are empty; 'unknown' stays 'unknown'."""

    namespace: str
    workload: str
    app: str  # canonical service
    version: str  # canonical revision


@dataclass(frozen=True, slots=True)
class EdgeLabels:
    source: Workload
    destination: Workload
    # FQDN such as reviews.bookinfo.svc.cluster.local, or a host header for non-mesh destinations.
    destination_service: str
    protocol: str


@dataclass(frozen=True, slots=True)
class RequestRate:
    """Requests per second of one (edge, response code, response flags) group, from one reporter."""

    edge: EdgeLabels
    reporter: Reporter
    response_code: str
    response_flags: str
    rps: float


@dataclass(frozen=True, slots=True)
class LatencyQuantile:
    """A percentile estimated by histogram_quantile over the merged histogram of one edge."""

    edge: EdgeLabels
    quantile: float
    value_ms: float


@dataclass(frozen=True, slots=True)
class VectorSample:
    """One element of an instant-vector answer: its labels and its value."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class RangeSeries:
    """One element of a range (matrix) answer: its labels and (unix seconds, value) points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]
