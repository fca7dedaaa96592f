"""Per-edge request statistics folded from request-rate samples, and the edge health they imply.

Counting rule (the one Kiali and Istio's dashboards follow): destination-reported rates count every request
that reached a workload; source-reported rates are only ever fed in for requests that reached none
(destination workload 'unknown'), so no request is counted twice. Success rate = 1 − (5xx + no response) /
total; 4xx are counted apart and are not failures of the callee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from observe.model.quantiles import ENVOY_BUCKETS_MS, sorted_bucket_bounds
from observe.model.samples import Reporter, RequestRate

NO_FLAGS = "-"


class Health(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    IDLE = "idle"

    @property
    def rank(self) -> int:
        return _HEALTH_RANK[self]


_HEALTH_RANK = {Health.IDLE: 0, Health.HEALTHY: 1, Health.DEGRADED: 2, Health.FAILING: 3}


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """Success-rate floors: at or above `healthy` is healthy, at or above `degraded` is degraded."""

    healthy: float = 0.99
    degraded: float = 0.95

    def classify(self, rps: float, success_rate: float | None) -> Health:
        if rps <= 0 or success_rate is None:
            return Health.IDLE
        if success_rate >= self.healthy:
            return Health.HEALTHY
        return Health.DEGRADED if success_rate >= self.degraded else Health.FAILING


class Percentile(NamedTuple):  # a NamedTuple, like the samples (model.samples): one per edge and quantile
    """A histogram_quantile estimate and the bucket it lies in (its honest error bar)."""

    value_ms: float
    lower_ms: float
    upper_ms: float  # +Inf when the estimate is pinned to the last finite bucket bound

    @property
    def overflow(self) -> bool:
        return math.isinf(self.upper_ms)

    @classmethod
    def estimate(cls, value_ms: float, bounds: tuple[float, ...] = ENVOY_BUCKETS_MS) -> Percentile:
        """`bounds` in ascending order, as Envoy's and every histogram's are."""
        lower, upper = sorted_bucket_bounds(value_ms, bounds)
        return cls(value_ms, lower, upper)


# A NamedTuple, not a frozen dataclass: one per edge per build (10^4 on a large mesh), and a frozen dataclass's
# __init__ (an object.__setattr__ per field) costs 2.6 µs against a tuple's 0.3.
class EdgeStats(NamedTuple):
    rps: float
    responses: Mapping[str, float]  # rps by response code ('0' = no response)
    flags: Mapping[str, float]  # rps by Envoy response flag (UO, UH, UF …), '-' left out
    protocol: str
    reporters: frozenset[Reporter]
    percentiles: Mapping[float, Percentile] = MappingProxyType({})  # shared default: read-only
    security: str | None = None  # mutual_tls | none | mixed; None when no reporter knew it
    mirror: EdgeStats | None = None  # mirrored copies (responses dropped), never in the numbers above

    def shares(self) -> Shares:
        """Every per-request fraction in one pass over the response codes (the wire reads them all)."""
        if self.rps <= 0:
            return NO_SHARES
        errors = client = 0.0
        for code, rps in self.responses.items():
            if code.startswith("5"):
                errors += rps
            elif code.startswith("4"):
                client += rps
        errors, none = errors / self.rps, self.responses.get("0", 0.0) / self.rps
        return Shares(errors, client / self.rps, none, max(0.0, 1.0 - errors - none))

    @property
    def error_rate_5xx(self) -> float | None:
        return self.shares().error_rate_5xx

    @property
    def rate_4xx(self) -> float | None:
        return self.shares().rate_4xx

    @property
    def no_response_rate(self) -> float | None:
        return self.shares().no_response_rate

    @property
    def success_rate(self) -> float | None:
        return self.shares().success_rate

    def health(self, thresholds: HealthThresholds) -> Health:
        return thresholds.classify(self.rps, self.shares().success_rate)


class Shares(NamedTuple):
    """Fractions of an edge's requests; None when it had none."""

    error_rate_5xx: float | None
    rate_4xx: float | None
    no_response_rate: float | None
    success_rate: float | None


NO_SHARES = Shares(None, None, None, None)


def fold_rates(rates: Iterable[RequestRate], percentiles: Mapping[float, Percentile] | None = None) -> EdgeStats:
    """One EdgeStats from every (code, flags) rate of one edge, with the edge's percentiles if known."""
    responses: dict[str, float] = {}
    flags: dict[str, float] = {}
    if isinstance(rates, list) and len(rates) == 1:  # one response code: most edges of a healthy mesh
        edge, reporter, code, flag_text, rps = rates[0]
        if flag_text != NO_FLAGS:
            for flag in split_flags(flag_text):
                flags[flag] = flags.get(flag, 0.0) + rps
        security = edge.security if edge.security in SECURITY_VALUES else None
        return EdgeStats(rps, {code: rps}, flags, edge.protocol, _ONE_REPORTER[reporter], percentiles or {}, security)
    reporters: set[Reporter] = set()
    edges = []
    edge = None
    for rate in rates:
        if rate.edge is not edge:  # an edge's samples share one interned label object and come together
            edge = rate.edge
            edges.append(edge)
        code = rate.response_code
        responses[code] = responses.get(code, 0.0) + rate.rps
        if rate.response_flags != NO_FLAGS:  # most samples: no flags, nothing to split
            for flag in split_flags(rate.response_flags):
                flags[flag] = flags.get(flag, 0.0) + rate.rps
        reporters.add(rate.reporter)
    if len(edges) == 1:  # one label set: the common case on a fine graph, no sets to fold
        protocol, security = edges[0].protocol, edges[0].security
        security_folded = security if security in SECURITY_VALUES else None
    else:
        protocols = {e.protocol for e in edges}
        protocol = protocols.pop() if len(protocols) == 1 else ("mixed" if protocols else "unknown")
        security_folded = fold_security(e.security for e in edges)
    return EdgeStats(sum(responses.values()), responses, flags, protocol, frozenset(reporters), percentiles or {},
                     security_folded)  # fmt: skip


SECURITY_VALUES = frozenset({"mutual_tls", "none"})
_ONE_REPORTER = {r: frozenset({r}) for r in Reporter}


def fold_security(values: Iterable[str]) -> str | None:
    """Istio's connection_security_policy over an edge's label sets: source reporters say 'unknown'."""
    known = set(SECURITY_VALUES.intersection(values))
    return known.pop() if len(known) == 1 else ("mixed" if known else None)


def split_flags(raw: str) -> list[str]:
    """Envoy joins flags with commas ('URX,UF'); '-' means none."""
    return [f for f in (part.strip() for part in raw.split(",")) if f and f != NO_FLAGS]
