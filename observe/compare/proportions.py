"""Error-rate statistics on request counts (every request counts, so these are binomial proportions).

- Wilson score interval per version: unlike the Wald interval it stays inside [0, 1] and is not degenerate at
  0 errors, which is the common case for a healthy service (kayenta#426, #799: a zero-error baseline must work).
- Newcombe's hybrid score interval (his method 10) for Δ = p_canary − p_baseline, built from the two Wilson
  intervals: good coverage for small p and unequal n, and defined when either side has 0 errors. scipy has no
  implementation, so it is written here (Newcombe 1998, Stat. Med. 17:873).
- The exact conditional test when errors are few: given E = E_c + E_b errors in total, E_c ~ Binomial(E,
  N_c / (N_c + N_b)) under "same error rate". It needs no normal approximation and no ratio, so 0 baseline
  errors give a p-value, not a NaN. scipy.stats.binomtest computes it; we use its mid-p version (Lancaster),
  whose size stays close to nominal where the plain exact test is conservative (simulated: 3.2% instead of 5%).
- With many errors, the pooled two-proportion z (score) test, the usual large-sample test.

All tests are one-sided: a canary that is *better* than the baseline is never a failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

# Below this many errors in both versions together, the exact conditional test replaces the z test.
EXACT_BELOW_ERRORS = 50


_NORMAL = NormalDist()  # the standard normal (stdlib: scipy.stats is imported only where it is needed)

@dataclass(frozen=True, slots=True)
class Interval:
    lo: float
    hi: float


def z_for(alpha_one_sided: float) -> float:
    return -_NORMAL.inv_cdf(alpha_one_sided)


def wilson(errors: int, n: int, z: float) -> Interval:
    """Wilson score interval for errors/n; [0, 1] when n is 0 (nothing is known)."""
    if n <= 0:
        return Interval(0.0, 1.0)
    p = errors / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def newcombe(errors_c: int, n_c: int, errors_b: int, n_b: int, z: float) -> Interval:
    """Hybrid score interval for p_c − p_b (Newcombe's method 10)."""
    p_c, p_b = errors_c / n_c, errors_b / n_b
    c, b = wilson(errors_c, n_c, z), wilson(errors_b, n_b, z)
    delta = p_c - p_b
    lo = delta - math.sqrt((p_c - c.lo) ** 2 + (b.hi - p_b) ** 2)
    hi = delta + math.sqrt((c.hi - p_c) ** 2 + (p_b - b.lo) ** 2)
    return Interval(lo, hi)


def exact_conditional_p(errors_c: int, n_c: int, errors_b: int, n_b: int) -> float:
    """One-sided mid-p of "the canary errs more", conditional on the total number of errors."""
    total = errors_c + errors_b
    if total == 0:
        return 1.0
    share = n_c / (n_c + n_b)
    from scipy.stats import binom  # lazily: scipy.stats costs ~70 MB and 1 s to import

    return float(binom.sf(errors_c, total, share) + 0.5 * binom.pmf(errors_c, total, share))


def pooled_z_p(errors_c: int, n_c: int, errors_b: int, n_b: int) -> float:
    """One-sided p of the pooled two-proportion z (score) test."""
    pooled = (errors_c + errors_b) / (n_c + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_b))
    if se == 0:
        return 1.0
    return _NORMAL.cdf(-(errors_c / n_c - errors_b / n_b) / se)


def worse_p(errors_c: int, n_c: int, errors_b: int, n_b: int) -> tuple[float, str]:
    """p-value of "the canary's rate is higher", and the test used (named in the answer)."""
    if errors_c + errors_b < EXACT_BELOW_ERRORS:
        return exact_conditional_p(errors_c, n_c, errors_b, n_b), "exact conditional (binomial mid-p)"
    return pooled_z_p(errors_c, n_c, errors_b, n_b), "two-proportion z"


def margin(p_baseline: float, absolute: float = 0.001, relative: float = 0.5) -> float:
    """Non-inferiority margin δ: max(0.1 percentage points, 50% of the baseline rate) by default."""
    return max(absolute, relative * p_baseline)


def n_to_show(p_baseline: float, delta: float, alpha: float, power: float = 0.8) -> int:
    """Requests per version for the CI of Δ to end below δ when the canary equals the baseline.

    Normal approximation, floored by the rule of three (0 errors in n bound p below 3/n at 95%), which is what
    carries a zero-error baseline.
    """
    z = z_for(alpha) + z_for(1 - power)
    variance = 2 * p_baseline * (1 - p_baseline)
    return max(math.ceil(3 / delta), math.ceil(z * z * variance / (delta * delta)))


def n_to_detect(p_baseline: float, p_canary: float, alpha: float, power: float = 0.8) -> int:
    """Requests per version to detect p_b → p_c with a one-sided two-proportion test (Fleiss, no correction)."""
    if p_canary <= p_baseline:
        raise ValueError("p_canary must exceed p_baseline")
    z_a, z_b = z_for(alpha), z_for(1 - power)
    pooled = (p_baseline + p_canary) / 2
    spread = z_a * math.sqrt(2 * pooled * (1 - pooled)) + z_b * math.sqrt(
        p_baseline * (1 - p_baseline) + p_canary * (1 - p_canary)
    )
    return math.ceil(spread * spread / (p_canary - p_baseline) ** 2)
