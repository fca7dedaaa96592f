"""Rank statistics: the Hodges–Lehmann shift with its confidence interval, and Mann–Whitney on bucket counts.

Hodges–Lehmann (trace latencies, exact values): the shift Δ such that canary − Δ and baseline rank alike, with
the interval from inverting the Mann–Whitney test. This is R's `wilcox.test(x, y, conf.int=TRUE, exact=FALSE,
correct=TRUE)`, which Kayenta's judge ports (MannWhitney.scala): `wilcoxon_diff` is its `wdiff` (tie-corrected
σ, continuity correction), and the roots are found with a port of R's `zeroin`, not scipy's brentq: the function
is a step function, every point of a flat step is a root, and only the same root finder lands on the same
points (brentq drifts by up to 3e-5 on tied data). The port reproduces Kayenta's published fixtures
(exp [10,20,30,40] vs ctrl [1,2,3,4] at 0.95 → CI [6, 39], estimate 22.5). scipy has no HL interval.

Mann–Whitney on histogram buckets (all requests, ordinal): every request in a bucket ties with the others in
it, so U, its tie-corrected σ and CLES = P(canary slower) + ½·P(same bucket) come from the counts in closed
form, O(buckets) — the same numbers scipy.stats.mannwhitneyu gives on the expanded data (checked in tests),
without expanding millions of requests. The CLES interval uses DeLong's variance (placement values), which,
unlike the null σ, stays right when the distributions differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_EPS = float(np.finfo(float).eps)


_NORMAL = NormalDist()

def zeroin(f: Callable[[float], float], a: float, b: float, fa: float, fb: float, tol: float = 1e-4,
           maxit: int = 1000) -> float:  # fmt: skip
    """Brent's root finder exactly as R's R_zeroin2 (src/library/stats/src/zeroin.c) does it."""
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolate(a, b, c, fa, fb, fc, prev_step, tol_act, new_step)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _interpolate(a: float, b: float, c: float, fa: float, fb: float, fc: float, prev_step: float,
                 tol_act: float, bisect: float) -> float:  # fmt: skip
    cb = c - b
    if a == c:  # two distinct points: secant
        t1 = fb / fa
        p, q = cb * t1, 1.0 - t1
    else:  # inverse quadratic interpolation
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
        return p / q
    return bisect


def wilcoxon_diff(x: np.ndarray, y: np.ndarray, mu: float, zq: float) -> float:
    """R's `wdiff`: standardised rank sum of x − mu against y, continuity-corrected, minus zq."""
    nx, ny = len(x), len(y)
    from scipy.stats import rankdata  # lazily: scipy.stats costs ~70 MB and 1 s to import

    ranks = rankdata(np.concatenate([x - mu, y]))
    dz = float(ranks[:nx].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
    _, ties = np.unique(ranks, return_counts=True)
    total = nx + ny
    sigma = math.sqrt(nx * ny / 12 * ((total + 1) - float((ties**3 - ties).sum()) / (total * (total - 1))))
    if sigma == 0:
        raise ValueError("all values are equal: no rank test")
    return (dz - 0.5 * float(np.sign(dz))) / sigma - zq


@dataclass(frozen=True, slots=True)
class Shift:
    """Hodges–Lehmann estimate of canary − baseline with its confidence interval."""

    estimate: float
    lo: float
    hi: float


def hodges_lehmann(
    canary: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> Shift:
    x, y = np.asarray(canary, dtype=float), np.asarray(baseline, dtype=float)
    if len(x) < 2 or len(y) < 2:
        raise ValueError("need at least two values on each side")
    mu_min, mu_max = float(x.min() - y.max()), float(x.max() - y.min())

    def root(zq: float) -> float:
        def f(mu: float) -> float:
            return wilcoxon_diff(x, y, mu, zq)

        f_lo, f_hi = f(mu_min), f(mu_max)
        if f_lo <= 0:
            return mu_min
        if f_hi >= 0:
            return mu_max
        return zeroin(f, mu_min, mu_max, f_lo, f_hi)

    z = -_NORMAL.inv_cdf((1 - confidence) / 2)

    def f0(mu: float) -> float:
        return wilcoxon_diff(x, y, mu, 0.0)

    estimate = zeroin(f0, mu_min, mu_max, f0(mu_min), f0(mu_max))
    return Shift(estimate, root(z), root(-z))


@dataclass(frozen=True, slots=True)
class RankTest:
    """Mann–Whitney on ordered buckets: CLES = P(canary slower) + ½·P(same bucket), its CI, one-sided p."""

    cles: float
    cles_lo: float
    cles_hi: float
    z: float
    p_slower: float


def bucket_rank_test(canary: Sequence[float], baseline: Sequence[float], z_ci: float) -> RankTest:
    """`canary` and `baseline` are per-bucket (not cumulative) counts over the same ordered buckets."""
    c, b = np.asarray(canary, dtype=float), np.asarray(baseline, dtype=float)
    n_c, n_b = float(c.sum()), float(b.sum())
    if n_c <= 0 or n_b <= 0:
        raise ValueError("both versions need requests")
    below_b = np.cumsum(b) - b  # baseline requests in faster buckets
    above_c = n_c - np.cumsum(c)  # canary requests in slower buckets
    place_c = (below_b + b / 2) / n_b  # for each canary request: share of baseline it is slower than
    place_b = (above_c + c / 2) / n_c
    cles = float((c * place_c).sum() / n_c)
    ties = c + b
    total = n_c + n_b
    sigma = math.sqrt(n_c * n_b / 12 * ((total + 1) - float((ties**3 - ties).sum()) / (total * (total - 1))))
    z = (cles * n_c * n_b - n_c * n_b / 2) / sigma if sigma > 0 else 0.0
    var = _weighted_var(place_c, c) / n_c + _weighted_var(place_b, b) / n_b
    half = z_ci * math.sqrt(var)
    return RankTest(cles, max(0.0, cles - half), min(1.0, cles + half), z, _NORMAL.cdf(-z))


def _weighted_var(values: np.ndarray, weights: np.ndarray) -> float:
    n = float(weights.sum())
    if n < 2:
        return 0.0
    mean = float((values * weights).sum() / n)
    return float((weights * (values - mean) ** 2).sum() / (n - 1))
