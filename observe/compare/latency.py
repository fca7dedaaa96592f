"""Latency, canary vs baseline: from histogram buckets (every request) and from trace spans (a sample).

Histograms (Istio's istio_request_duration_milliseconds_bucket, increase() over the window):
- Percentiles are shown as the bucket they fall in, [lo, hi]: Envoy's buckets only know P99 to within a
  factor 2–2.5, and an interpolated point hides that (kayenta#803: users cannot reason about percentile
  results). Marked approximate below 300 requests (fewer than 299 samples cannot bound P99).
- Tail exceedance: the share of requests above the bucket boundary nearest (in log distance) to the
  baseline's P99, judged like the error rate (two proportions, Newcombe interval, exact test when few): the
  most robust "P99 got worse" test at low traffic, and it reads as "3.1% vs 1.0% slower than 250 ms".
- Mann–Whitney on the ordered bucket counts (ranks.bucket_rank_test) with CLES = P(canary slower): a shift
  of the whole distribution. Effect gate CLES ≥ 0.56 (a "small" effect), critical when the CLES interval is
  entirely ≥ 0.70.
Traces (exact durations of the service's server spans per version; sampled, so they explain rather than
decide, and are left out of the roll-up):
- Hodges–Lehmann shift with its interval (robust to the outliers spans have; Kayenta's estimator);
- two-sample Kolmogorov–Smirnov (scipy.stats.ks_2samp) for a change of shape or spread, which a location
  test misses (kayenta#780);
- exact P50/P95/P99 of the samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from observe.compare.proportions import z_for
from observe.compare.ranks import RankTest, Shift, bucket_rank_test, hodges_lehmann
from observe.compare.verdict import Margins, ProportionResult, Verdict, judge_proportion
from observe.model.quantiles import histogram_quantile

PERCENTILES = (0.5, 0.95, 0.99)
APPROXIMATE_BELOW = 300
CLES_EFFECT = 0.56
CLES_CRITICAL = 0.70
TAIL_MARGINS = Margins(absolute=0.005, relative=0.5, critical_absolute=0.05, critical_factor=4.0)
MAX_TRACE_SAMPLES = 5000
ECDF_POINTS = 100  # per version on the wire


@dataclass(frozen=True, slots=True)
class Histogram:
    """Per-bucket (not cumulative) counts over the shared bounds; the last bound is +Inf."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, float]]:
        return list(zip(self.bounds, np.cumsum(self.counts).tolist(), strict=True))

    def above(self, bound: float) -> int:
        return sum(c for b, c in zip(self.bounds, self.counts, strict=True) if b > bound)


def align(baseline: Mapping[float, float], canary: Mapping[float, float]) -> tuple[Histogram, Histogram]:
    """Two cumulative {le: count} maps (increase() values: fractional, maybe non-monotonic) on shared bounds."""
    bounds = tuple(sorted(set(baseline) | set(canary) | {math.inf}))
    return _per_bucket(baseline, bounds), _per_bucket(canary, bounds)


def _per_bucket(cumulative: Mapping[float, float], bounds: tuple[float, ...]) -> Histogram:
    running, peak, counts = 0, 0.0, []
    for bound in bounds:
        # A bound one version lacks holds the count of the next lower bound it has (nothing is known finer).
        value = cumulative.get(bound, peak if bound != math.inf else max(cumulative.values(), default=0.0))
        peak = max(peak, value)
        counts.append(max(0, round(peak) - running))
        running = round(peak)
    return Histogram(bounds, tuple(counts))


def percentile_interval(hist: Histogram, q: float) -> tuple[float, float | None] | None:
    """The bucket [lo, hi] holding the q-quantile; hi is None for +Inf."""
    total = hist.total
    if total == 0:
        return None
    rank, seen, lower = q * total, 0, 0.0
    for bound, count in zip(hist.bounds, hist.counts, strict=True):
        seen += count
        if seen >= rank and count:
            return lower, None if math.isinf(bound) else bound
        lower = bound
    return lower, None


def tail_boundary(baseline: Histogram) -> float | None:
    """The finite bucket boundary nearest (log distance) to the baseline's P99, or None without data."""
    p99 = histogram_quantile(0.99, baseline.cumulative())
    finite = [b for b in baseline.bounds if not math.isinf(b) and b > 0]
    if math.isnan(p99) or not finite:
        return None
    return min(finite, key=lambda b: abs(math.log(b) - math.log(max(p99, 1e-9))))


@dataclass(frozen=True, slots=True)
class HistogramComparison:
    baseline: Histogram
    canary: Histogram
    boundary_ms: float | None
    tail: ProportionResult | None
    rank: RankTest | None
    rank_verdict: Verdict

    def to_wire(self) -> dict[str, Any]:
        def side(h: Histogram) -> dict[str, Any]:
            return {"n": h.total, "approximate": h.total < APPROXIMATE_BELOW,
                    **{f"p{round(q * 100)}_ms": percentile_interval(h, q) for q in PERCENTILES}}  # fmt: skip

        rank = None
        if self.rank is not None:
            rank = {"cles": round(self.rank.cles, 4), "ci": [round(self.rank.cles_lo, 4), round(self.rank.cles_hi, 4)],
                    "z": round(self.rank.z, 3), "p_value": round(self.rank.p_slower, 6)}  # fmt: skip
        return {
            "baseline": side(self.baseline), "canary": side(self.canary), "tail_boundary_ms": self.boundary_ms,
            "tail": None if self.tail is None else self.tail.to_wire(),
            "rank": {"name": "latency_rank", "verdict": self.rank_verdict.value, "effect_gate": CLES_EFFECT,
                     "cles_meaning": "P(canary request slower than baseline request)", **(rank or {})},
        }  # fmt: skip


def compare_histograms(baseline: Histogram, canary: Histogram, alpha: float,
                       min_requests: int = 20) -> HistogramComparison:  # fmt: skip
    n_b, n_c = baseline.total, canary.total
    if n_b == 0 or n_c == 0:
        return HistogramComparison(baseline, canary, None, None, None, Verdict.NO_TRAFFIC)
    boundary = tail_boundary(baseline)
    tail = None
    if boundary is not None:
        margins = Margins(TAIL_MARGINS.absolute, TAIL_MARGINS.relative, TAIL_MARGINS.critical_absolute,
                          TAIL_MARGINS.critical_factor, min_requests)  # fmt: skip
        tail = judge_proportion("latency_tail", canary.above(boundary), n_c, baseline.above(boundary), n_b, alpha,
                                margins)  # fmt: skip
    z = min(z_for(alpha), 10.0) if alpha > 0 else 10.0
    rank = bucket_rank_test(canary.counts, baseline.counts, z)
    return HistogramComparison(
        baseline, canary, boundary, tail, rank, _rank_verdict(rank, alpha, n_b, n_c, min_requests)
    )


def _rank_verdict(rank: RankTest, alpha: float, n_b: int, n_c: int, min_requests: int) -> Verdict:
    if min(n_b, n_c) < min_requests:
        return Verdict.INSUFFICIENT_DATA
    significant = alpha > 0 and rank.p_slower < alpha
    if significant and rank.cles_lo >= CLES_CRITICAL:
        return Verdict.CRITICAL
    if significant and rank.cles >= CLES_EFFECT:
        return Verdict.FAIL
    if rank.cles_hi < CLES_EFFECT:
        return Verdict.PASS
    return Verdict.MARGINAL if significant else Verdict.INSUFFICIENT_DATA


@dataclass(frozen=True, slots=True)
class TraceComparison:
    n_b: int
    n_c: int
    percentiles_b: dict[str, float]
    percentiles_c: dict[str, float]
    shift: Shift | None
    ks_statistic: float | None
    ks_p: float | None
    ecdf_b: tuple[tuple[float, float], ...] = ()
    ecdf_c: tuple[tuple[float, float], ...] = ()

    def to_wire(self) -> dict[str, Any]:
        shift = (
            None
            if self.shift is None
            else {
                "estimate_ms": round(self.shift.estimate, 3),
                "ci_ms": [round(self.shift.lo, 3), round(self.shift.hi, 3)],
            }
        )
        return {"baseline": {"n": self.n_b, **self.percentiles_b}, "canary": {"n": self.n_c, **self.percentiles_c},
                "hodges_lehmann_shift": shift,
                "ks": None if self.ks_statistic is None else {"statistic": round(self.ks_statistic, 4),
                                                             "p_value": round(self.ks_p or 0.0, 6)},
                "ecdf": {"baseline": [list(p) for p in self.ecdf_b],
                         "canary": [list(p) for p in self.ecdf_c]}}  # fmt: skip


def compare_samples(baseline: Sequence[float], canary: Sequence[float], confidence: float = 0.95) -> TraceComparison:
    """Exact latencies (ms) of two versions' spans. Large samples are thinned evenly (HL is O(n log n) a step)."""
    b, c = _thin(baseline), _thin(canary)
    pb, pc = _percentiles(b), _percentiles(c)
    eb, ec = ecdf(b), ecdf(c)
    if len(b) < 2 or len(c) < 2:
        return TraceComparison(len(baseline), len(canary), pb, pc, None, None, None, eb, ec)
    try:
        shift: Shift | None = hodges_lehmann(c, b, confidence)
    except ValueError:  # every value equal: no shift to estimate
        shift = None
    from scipy.stats import ks_2samp  # scipy.stats costs ~70 MB and 1 s to import: only when comparing

    ks = ks_2samp(c, b)
    return TraceComparison(len(baseline), len(canary), pb, pc, shift, float(ks.statistic), float(ks.pvalue), eb, ec)


def ecdf(values: Sequence[float] | np.ndarray, points: int = ECDF_POINTS) -> tuple[tuple[float, float], ...]:
    """The empirical CDF as at most `points` (latency ms, fraction ≤ it) pairs at evenly spaced ranks, always
    including the maximum: enough to draw the curve without sending every sample."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    if n == 0:
        return ()
    ranks = np.unique(np.linspace(0, n - 1, min(points, n)).round().astype(int))
    return tuple((round(float(ordered[i]), 3), round((int(i) + 1) / n, 4)) for i in ranks)


def _thin(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if len(array) <= MAX_TRACE_SAMPLES:
        return array
    step = len(array) / MAX_TRACE_SAMPLES
    thinned: np.ndarray = array[(np.arange(MAX_TRACE_SAMPLES) * step).astype(int)]
    return thinned


def _percentiles(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    return {f"p{round(q * 100)}_ms": round(float(np.quantile(values, q, method="inverted_cdf")), 3)
            for q in PERCENTILES}  # fmt: skip
