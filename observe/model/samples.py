"""Typed samples: what the metrics sources hand the model, free of any Prometheus response format."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, NamedTuple, TypeVar

from observe.model.ids import GraphType, NodeKey

H = TypeVar("H")


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
    # Istio's connection_security_policy: mutual_tls | none | unknown (source reporters do not know it) | "".
    security: str = ""
    # A mirrored copy (Envoy appends `-shadow` to the host); destination_service holds the host without it.
    mirror: bool = False
    # The (source, destination) nodes per (graph type, reached), memoised by model.topology: the parser interns
    # label objects, so a steady mesh's refreshes map each edge once, and the memo lives as long as its object.
    nodes: dict[tuple[GraphType, bool], tuple[NodeKey, NodeKey]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )


# The per-sample types are NamedTuples, not frozen dataclasses: a large mesh's answer holds tens of
# thousands of them, and a frozen dataclass's __init__ (one object.__setattr__ per field) costs ~4× a tuple's.
class RequestRate(NamedTuple):
    """Requests per second of one (edge, response code, response flags) group, from one reporter."""

    edge: EdgeLabels
    reporter: Reporter
    response_code: str
    response_flags: str
    rps: float


class LatencyQuantile(NamedTuple):
    """A percentile estimated by histogram_quantile over the merged histogram of one edge."""

    edge: EdgeLabels
    quantile: float
    value_ms: float


class VectorSample(NamedTuple):  # per sample too: a large mesh's answer holds tens of thousands
    """One element of an instant-vector answer: its labels and its value."""

    labels: dict[str, str]
    value: float


class Rows(NamedTuple, Generic[H]):
    """An instant-vector answer with each sample's labels parsed into a head (MetricsSource.query_parsed):
    two parallel lists, never changed once made. The model builds from them as they are (model.topology): a
    parser memoises its heads, so a steady mesh's answers hand it the very same head objects every time."""

    heads: list[H]
    values: list[float]


RateHead = tuple[EdgeLabels, Reporter, str, str]  # a RequestRate but its value
QuantileHead = tuple[EdgeLabels, float]  # a LatencyQuantile but its value


# tuple.__new__ on the NamedTuple: its generated __new__ is a Python call per sample (tens of thousands)
def rates_from_rows(rows: Rows[RateHead]) -> list[RequestRate]:
    new = tuple.__new__
    return [new(RequestRate, (*head, value)) for head, value in zip(*rows, strict=True)]


def quantiles_from_rows(rows: Rows[QuantileHead]) -> list[LatencyQuantile]:
    new = tuple.__new__
    return [new(LatencyQuantile, (*head, value)) for head, value in zip(*rows, strict=True)]


@dataclass(frozen=True, slots=True)
class RangeSeries:
    """One element of a range (matrix) answer: its labels and (unix seconds, value) points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]
