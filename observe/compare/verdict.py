"""Verdict states, the proportion judge shared by error rate and tail exceedance, and the roll-up.

A proportion metric (errors or requests over a latency boundary, canary vs baseline) is judged on
Δ = p_canary − p_baseline with Newcombe's interval at the look's α (one-sided, from sequential.py) against a
non-inferiority margin δ (default max(0.1 pp, 50% of the baseline rate)), and a one-sided test of "worse":
- NO_TRAFFIC: a version has no requests (a distinct state, not a failure: flagger#1035/#1365).
- INSUFFICIENT_DATA: fewer than `min_requests`, or the interval is still too wide to decide and the canary has
  fewer requests than needed to show non-inferiority; the answer says how many more.
- CRITICAL: significantly worse and the interval's lower end is above the critical margin (default 5× the
  baseline rate, at least +0.5 pp).
- FAIL: significantly worse (the one-sided test rejects "no worse") and the estimate is at least δ: a
  degradation that is both real and practically relevant. This is the superiority test the note's sample-size
  table is computed for (0.5% → 1.0% at 3,681 requests per version, 80% power).
- PASS: the interval's upper end is below δ (non-inferiority shown).
- MARGINAL: significantly worse but below δ, or still undecided at the planned sample size: a human decides.
Roll-up over metrics: ERROR > NO_TRAFFIC > NOT_COMPARABLE > CRITICAL > FAIL > MARGINAL > INSUFFICIENT_DATA > PASS;
PASS only when every judged metric passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from observe.compare.proportions import Interval, n_to_show, newcombe, wilson, worse_p, z_for

NOMINAL_ALPHA = 0.05


class Verdict(StrEnum):
    NO_TRAFFIC = "NO_TRAFFIC"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    PASS = "PASS"
    MARGINAL = "MARGINAL"
    FAIL = "FAIL"
    CRITICAL = "CRITICAL"
    ERROR = "ERROR"
    NOT_COMPARABLE = "NOT_COMPARABLE"


_PRECEDENCE = [Verdict.ERROR, Verdict.NO_TRAFFIC, Verdict.NOT_COMPARABLE, Verdict.CRITICAL, Verdict.FAIL,
               Verdict.MARGINAL, Verdict.INSUFFICIENT_DATA, Verdict.PASS]  # fmt: skip


def roll_up(verdicts: Iterable[Verdict]) -> Verdict:
    present = set(verdicts)
    return next((v for v in _PRECEDENCE if v in present), Verdict.INSUFFICIENT_DATA)


@dataclass(frozen=True, slots=True)
class Margins:
    absolute: float = 0.001  # δ floor: 0.1 percentage points
    relative: float = 0.5  # δ = 50% of the baseline rate when that is larger
    critical_absolute: float = 0.005
    critical_factor: float = 4.0  # critical when Δ's lower end exceeds 4 × baseline (canary ≥ 5× baseline)
    min_requests: int = 20  # below this, one request is too large a share to judge (suna#3403)

    def delta(self, p_b: float) -> float:
        return max(self.absolute, self.relative * p_b)

    def critical(self, p_b: float) -> float:
        return max(self.critical_absolute, self.critical_factor * p_b)


DEFAULT_MARGINS = Margins()


@dataclass(frozen=True, slots=True)
class ProportionResult:
    name: str
    errors_b: int
    n_b: int
    errors_c: int
    n_c: int
    ci_b: Interval
    ci_c: Interval
    diff_ci: Interval
    margin: float
    critical_margin: float
    p_value: float
    test: str
    alpha: float
    verdict: Verdict
    needed_more: int  # canary requests still needed for a decision (0 when decided)

    @property
    def rate_b(self) -> float:
        return self.errors_b / self.n_b if self.n_b else 0.0

    @property
    def rate_c(self) -> float:
        return self.errors_c / self.n_c if self.n_c else 0.0

    def to_wire(self) -> dict[str, Any]:
        def side(k: int, n: int, ci: Interval) -> dict[str, Any]:
            return {"count": k, "n": n, "rate": _r(k / n if n else None), "ci": [_r(ci.lo), _r(ci.hi)]}

        return {
            "name": self.name, "verdict": self.verdict.value,
            "baseline": side(self.errors_b, self.n_b, self.ci_b), "canary": side(self.errors_c, self.n_c, self.ci_c),
            "difference": {"value": _r(self.rate_c - self.rate_b) if self.n_b and self.n_c else None,
                           "ci": [_r(self.diff_ci.lo), _r(self.diff_ci.hi)]},
            "margin": _r(self.margin), "critical_margin": _r(self.critical_margin), "test": self.test,
            "p_value": _r(self.p_value), "alpha": _r(self.alpha), "needed_more": self.needed_more,
        }  # fmt: skip


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def judge_proportion(name: str, errors_c: int, n_c: int, errors_b: int, n_b: int, alpha: float,
                     margins: Margins | None = None) -> ProportionResult:  # fmt: skip
    """Judge canary errors_c/n_c against baseline errors_b/n_b at the look's one-sided α."""
    margins = margins or DEFAULT_MARGINS
    p_b = errors_b / n_b if n_b else 0.0
    delta, critical = margins.delta(p_b), margins.critical(p_b)
    if n_c <= 0 or n_b <= 0:
        return ProportionResult(name, errors_b, n_b, errors_c, n_c, wilson(errors_b, n_b, 1.96),
                                wilson(errors_c, n_c, 1.96), Interval(-1.0, 1.0), delta, critical, 1.0, "none",
                                alpha, Verdict.NO_TRAFFIC, 0)  # fmt: skip
    z = z_for(alpha) if alpha > 0 else float("inf")
    z_shown = min(z, 10.0)  # a look with no α left still shows a (very wide) interval
    diff = newcombe(errors_c, n_c, errors_b, n_b, z_shown)
    p_value, test = worse_p(errors_c, n_c, errors_b, n_b)
    significant = alpha > 0 and p_value < alpha
    estimate = errors_c / n_c - p_b
    needed = max(n_to_show(p_b, delta, NOMINAL_ALPHA), margins.min_requests)
    verdict = _decide(significant, estimate, diff, delta, critical, n_c, n_b, needed, margins.min_requests)
    more = max(0, needed - n_c) if verdict is Verdict.INSUFFICIENT_DATA else 0
    if verdict is Verdict.INSUFFICIENT_DATA and more == 0:
        more = max(0, margins.min_requests - min(n_c, n_b))
    return ProportionResult(name, errors_b, n_b, errors_c, n_c, wilson(errors_b, n_b, z_shown),
                            wilson(errors_c, n_c, z_shown), diff, delta, critical, p_value, test, alpha, verdict,
                            more)  # fmt: skip


def _decide(significant: bool, estimate: float, diff: Interval, delta: float, critical: float, n_c: int,
            n_b: int, needed: int, min_requests: int) -> Verdict:  # fmt: skip
    if min(n_c, n_b) < min_requests:
        return Verdict.INSUFFICIENT_DATA
    if significant and diff.lo > critical:
        return Verdict.CRITICAL
    if significant and estimate >= delta:
        return Verdict.FAIL
    if diff.hi < delta:
        return Verdict.PASS
    if significant or n_c >= needed:
        return Verdict.MARGINAL
    return Verdict.INSUFFICIENT_DATA
