"""Per-edge request statistics folded from request-rate samples, and the edge health they imply.

Counting rule (the one Kiali and Istio's dashboards follow): destination-reported rates count every request
that reached a workload; source-reported rates are only ever fed in for requests that reached none
(destination workload 'unknown'), so no request is counted twice. Success rate = 1 − (5xx + no response) /
total; 4xx are counted apart and are not failures of the callee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from observe.model.quantiles import ENVOY_BUCKETS_MS, bucket_bounds
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


@dataclass(frozen=True, slots=True)
class Percentile:
    """A histogram_quantile estimate and the bucket it lies in (its honest error bar)."""

    value_ms: float
    lower_ms: float
    upper_ms: float  # +Inf when the estimate is pinned to the last finite bucket bound

    @property
    def overflow(self) -> bool:
        return math.isinf(self.upper_ms)

    @classmethod
    def estimate(cls, value_ms: float, bounds: tuple[float, ...] = ENVOY_BUCKETS_MS) -> Percentile:
        lower, upper = bucket_bounds(value_ms, bounds)
        return cls(value_ms, lower, upper)


@dataclass(frozen=True, slots=True)
class EdgeStats:
    rps: float
    responses: Mapping[str, float]  # rps by response code ('0' = no response)
    flags: Mapping[str, float]  # rps by Envoy response flag (UO, UH, UF …), '-' left out
    protocol: str
    reporters: frozenset[Reporter]
    percentiles: Mapping[float, Percentile] = field(default_factory=dict)

    def _share(self, predicate: str) -> float | None:
        if self.rps <= 0:
            return None
        return sum(v for code, v in self.responses.items() if code.startswith(predicate)) / self.rps

    @property
    def error_rate_5xx(self) -> float | None:
        return self._share("5")

    @property
    def rate_4xx(self) -> float | None:
        return self._share("4")

    @property
    def no_response_rate(self) -> float | None:
        return None if self.rps <= 0 else self.responses.get("0", 0.0) / self.rps

    @property
    def success_rate(self) -> float | None:
        errors, none = self.error_rate_5xx, self.no_response_rate
        return None if errors is None or none is None else max(0.0, 1.0 - errors - none)

    def health(self, thresholds: HealthThresholds) -> Health:
        return thresholds.classify(self.rps, self.success_rate)


def fold_rates(rates: Iterable[RequestRate]) -> EdgeStats:
    """One EdgeStats from every (code, flags) rate of one edge."""
    responses: dict[str, float] = {}
    flags: dict[str, float] = {}
    reporters: set[Reporter] = set()
    protocols: set[str] = set()
    for rate in rates:
        responses[rate.response_code] = responses.get(rate.response_code, 0.0) + rate.rps
        for flag in split_flags(rate.response_flags):
            flags[flag] = flags.get(flag, 0.0) + rate.rps
        reporters.add(rate.reporter)
        protocols.add(rate.edge.protocol)
    protocol = protocols.pop() if len(protocols) == 1 else ("mixed" if protocols else "unknown")
    return EdgeStats(sum(responses.values()), responses, flags, protocol, frozenset(reporters))


def split_flags(raw: str) -> list[str]:
    """Envoy joins flags with commas ('URX,UF'); '-' means none."""
    return [f for f in (part.strip() for part in raw.split(",")) if f and f != NO_FLAGS]
