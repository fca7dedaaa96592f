"""Per-edge request statistics folded from request-rate samples, and the edge health they imply.

Counting rule (the one Kiali and Istio's dashboards follow): destination-reported rates count every request
that reached a workload; source-reported rates are only ever fed in for requests that reached none
(destination workload 'unknown'), so no request is counted twice. Success rate = 1 − (5xx + no response) /
total; 4xx are counted apart and are not failures of the callee.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
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


class EdgeShape(NamedTuple):
    """One edge's samples without their values: what its labels alone decide. A steady mesh's refreshes
    repeat the same samples with new values (model.topology keeps the shapes between them)."""

    positions: tuple[int, ...]  # where each sample's value sits among the values it is folded with
    codes: tuple[str, ...]  # each sample's response code
    flags: tuple[tuple[str, ...], ...]  # each sample's Envoy response flags, split
    protocol: str
    reporters: frozenset[Reporter]
    security: str | None

    def fold(self, values: Sequence[float], percentiles: Mapping[float, Percentile] | None = None) -> EdgeStats:
        if len(self.positions) == 1:  # one response code: most edges of a healthy mesh
            rps = values[self.positions[0]]
            return EdgeStats(rps, {self.codes[0]: rps}, dict.fromkeys(self.flags[0], rps), self.protocol,
                             self.reporters, percentiles or {}, self.security)  # fmt: skip
        responses: dict[str, float] = {}
        flags: dict[str, float] = {}
        for position, code, sample_flags in zip(self.positions, self.codes, self.flags, strict=True):
            rps = values[position]
            responses[code] = responses.get(code, 0.0) + rps
            for flag in sample_flags:
                flags[flag] = flags.get(flag, 0.0) + rps
        return EdgeStats(sum(responses.values()), responses, flags, self.protocol, self.reporters,
                         percentiles or {}, self.security)  # fmt: skip


def edge_shape(rates: Sequence[RequestRate], positions: Sequence[int] | None = None) -> EdgeShape:
    """The shape of every (code, flags) rate of one edge; `positions` default: the rates' own order."""
    # The parser interns label objects, so an edge's samples share one: distinct by identity, not by value.
    edges = list({id(rate.edge): rate.edge for rate in rates}.values())
    if len(edges) == 1:  # one label set: the common case on a fine graph, no sets to fold
        protocol, security = edges[0].protocol, edges[0].security
        security_folded = security if security in SECURITY_VALUES else None
    else:
        protocols = {e.protocol for e in edges}
        protocol = protocols.pop() if len(protocols) == 1 else ("mixed" if protocols else "unknown")
        security_folded = fold_security(e.security for e in edges)
    reporters = frozenset(rate.reporter for rate in rates)
    return EdgeShape(
        tuple(range(len(rates)) if positions is None else positions),
        tuple(rate.response_code for rate in rates),
        tuple(split_flags(rate.response_flags) for rate in rates),
        protocol,
        _ONE_REPORTER[next(iter(reporters))] if len(reporters) == 1 else reporters,  # shared: 10^4 edges
        security_folded,
    )


def fold_rates(rates: Iterable[RequestRate], percentiles: Mapping[float, Percentile] | None = None) -> EdgeStats:
    """One EdgeStats from every (code, flags) rate of one edge, with the edge's percentiles if known."""
    samples = list(rates)
    return edge_shape(samples).fold([rate.rps for rate in samples], percentiles)


SECURITY_VALUES = frozenset({"mutual_tls", "none"})
_ONE_REPORTER = {r: frozenset({r}) for r in Reporter}


def fold_security(values: Iterable[str]) -> str | None:
    """Istio's connection_security_policy over an edge's label sets: source reporters say 'unknown'."""
    known = set(SECURITY_VALUES.intersection(values))
    return known.pop() if len(known) == 1 else ("mixed" if known else None)


@functools.lru_cache(maxsize=256)  # a mesh shows a handful of flag combinations
def split_flags(raw: str) -> tuple[str, ...]:
    """Envoy joins flags with commas ('URX,UF'); '-' means none. Each flag once: one request, one count."""
    return tuple(dict.fromkeys(f for f in (part.strip() for part in raw.split(",")) if f and f != NO_FLAGS))
