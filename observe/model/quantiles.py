"""Quantiles from classic histograms, computed exactly as Prometheus's `histogram_quantile` does.

Algorithm (promql/quantile.go, classic buckets): buckets are sorted by upper bound `le` and hold cumulative
counts; non-monotonic counts are fixed by taking the running maximum. rank = q × total (total = the +Inf
bucket). Find the first bucket whose count ≥ rank; if it is the +Inf bucket, answer the largest finite bound;
if it is the first bucket and its bound is > 0, interpolate from 0; else interpolate linearly between the
previous bound and this one. q < 0 → -Inf, q > 1 → +Inf, no observations → NaN.

`bucket_bounds` gives the bucket an estimate lies in, which is how far the estimate can be from the truth.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

# Envoy's default histogram buckets (ms), used for every Istio histogram unless a pod overrides them.
ENVOY_BUCKETS_MS: tuple[float, ...] = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
    300000, 600000, 1800000, 3600000,
)  # fmt: skip


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """`buckets` are (upper bound, cumulative count) pairs and must include +Inf."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    counts = _monotonic([c for _, c in ordered])
    total = counts[-1]
    if total == 0 or math.isnan(total):
        return math.nan
    rank = q * total
    index = next(i for i, c in enumerate(counts) if c >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[index][0]
    if index == 0 and upper <= 0:
        return upper
    lower, below = (0.0, 0.0) if index == 0 else (ordered[index - 1][0], counts[index - 1])
    in_bucket = counts[index] - below
    return lower + (upper - lower) * ((rank - below) / in_bucket) if in_bucket else upper


def _monotonic(counts: list[float]) -> list[float]:
    out, peak = [], -math.inf
    for c in counts:
        peak = max(peak, c)
        out.append(peak)
    return out


def bucket_bounds(value: float, bounds: Sequence[float] = ENVOY_BUCKETS_MS) -> tuple[float, float]:
    """The [lower, upper] bucket an estimate lies in; upper is +Inf when it is pinned to the last bound."""
    return sorted_bucket_bounds(value, sorted(bounds))


def sorted_bucket_bounds(value: float, finite: Sequence[float]) -> tuple[float, float]:
    """bucket_bounds over bounds already in ascending order: one bisection (the per-sample hot path)."""
    if not value < finite[-1]:  # NaN too: no bucket holds it
        return finite[-1], math.inf
    index = bisect.bisect_left(finite, value)  # the first bound ≥ value
    return (finite[index - 1] if index else 0.0), finite[index]
