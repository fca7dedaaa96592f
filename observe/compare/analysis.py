"""One comparison, canary vs baseline: every metric judged, rolled up into one verdict with its reason.

Inputs are plain counts per version (what the service reads from Prometheus and the trace store); the
output is the `metrics` part of /api/v1/compare plus the verdict and the reason in words with the numbers
behind it. Which metrics decide: the error rate (5xx, application errors only: circuit-breaker rejections
UO/UH are reported apart, so the mesh's own breaker edits are not blamed on the canary) and the two histogram
latency tests. Traces and outbound calls explain; the caller mix can veto (NOT_COMPARABLE).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from observe.compare.latency import HistogramComparison, TraceComparison, align, compare_histograms
from observe.compare.mix import MixCheck, Outbound, compare_outbound, mix_check
from observe.compare.verdict import DEFAULT_MARGINS, Margins, ProportionResult, Verdict, judge_proportion, roll_up


@dataclass(frozen=True)
class VersionData:
    version: str
    requests: int
    errors: int  # 5xx answered by the workload
    rps: float
    rejections: Mapping[str, int] = field(default_factory=dict)  # response flag (UO, UH) → requests
    callers: Mapping[str, int] = field(default_factory=dict)  # source workload → requests
    buckets: Mapping[float, float] = field(default_factory=dict)  # cumulative le → count
    outbound: Mapping[str, Outbound] = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    reason: str
    errors: ProportionResult
    latency: HistogramComparison
    mix: MixCheck
    needed_more: int
    eta_s: float | None
    wire: dict[str, Any]


def analyse(baseline: VersionData, canary: VersionData, alpha: float, margins: Margins = DEFAULT_MARGINS,
            traces: TraceComparison | None = None) -> Analysis:  # fmt: skip
    errors = judge_proportion("errors_5xx", canary.errors, canary.requests, baseline.errors, baseline.requests,
                              alpha, margins)  # fmt: skip
    hb, hc = align(baseline.buckets, canary.buckets)
    latency = compare_histograms(hb, hc, alpha, margins.min_requests)
    mix = mix_check(baseline.callers, canary.callers)
    judged = [errors.verdict]
    if latency.rank is not None:  # no histogram at all (old sidecars, TCP): judged on errors alone
        judged.append(latency.rank_verdict)
    if latency.tail is not None:
        judged.append(latency.tail.verdict)
    if min(baseline.requests, canary.requests) == 0:
        verdict = Verdict.NO_TRAFFIC
    else:
        verdict = roll_up([*judged, *([] if mix.comparable else [Verdict.NOT_COMPARABLE])])
    needed = max(errors.needed_more, latency.tail.needed_more if latency.tail else 0)
    eta = needed / canary.rps if needed and canary.rps > 0 else None
    reason = _reason(verdict, baseline, canary, errors, latency, mix, needed, eta)
    wire = {
        "errors": errors.to_wire(), "latency": latency.to_wire(), "mix": mix.to_wire(),
        "rejections": {"baseline": dict(baseline.rejections), "canary": dict(canary.rejections),
                       "note": "circuit-breaker rejections (UO, UH) seen by callers; not counted as errors"},
        "outbound": compare_outbound(baseline.outbound, canary.outbound, baseline.requests, canary.requests),
        "latency_traces": None if traces is None else traces.to_wire(),
    }  # fmt: skip
    return Analysis(verdict, reason, errors, latency, mix, needed, eta, wire)


def _pct(p: float) -> str:
    return f"{100 * p:.2f}%"


def _reason(verdict: Verdict, b: VersionData, c: VersionData, errors: ProportionResult,
            latency: HistogramComparison, mix: MixCheck, needed: int, eta: float | None) -> str:  # fmt: skip
    if verdict is Verdict.NO_TRAFFIC:
        idle = [v.version for v in (b, c) if v.requests == 0]
        return f"no requests to {' and '.join(idle)} in the window: nothing to compare (not a failure)"
    parts = [_error_words(errors)]
    parts.extend(_latency_words(latency))
    if not mix.comparable:
        parts.insert(0, f"callers differ between versions (total-variation distance {mix.distance:.2f}, "
                        f"chi-square p={mix.p_value:.2g}): the versions serve different traffic")  # fmt: skip
    if verdict is Verdict.INSUFFICIENT_DATA:
        when = f" (~{_duration(eta)} at the canary's current {c.rps:.2g} rps)" if eta else ""
        parts.append(f"needs ≈{needed} more canary requests{when}; a higher canary weight shortens this")
    return f"{verdict.value}: " + "; ".join(parts)


def _error_words(e: ProportionResult) -> str:
    diff = f"Δ {100 * (e.rate_c - e.rate_b):+.2f} pp, CI [{100 * e.diff_ci.lo:+.2f}, {100 * e.diff_ci.hi:+.2f}] pp"
    return (f"errors {e.verdict.value}: canary {_pct(e.rate_c)} ({e.errors_c}/{e.n_c}) vs baseline "
            f"{_pct(e.rate_b)} ({e.errors_b}/{e.n_b}), {diff}, margin {100 * e.margin:.2f} pp, "
            f"{e.test} p={e.p_value:.2g} at α={e.alpha:.3g}")  # fmt: skip


def _latency_words(latency: HistogramComparison) -> list[str]:
    out = []
    t = latency.tail
    if t is not None and latency.boundary_ms is not None:
        out.append(f"latency tail {t.verdict.value}: {_pct(t.rate_c)} of canary vs {_pct(t.rate_b)} of baseline "
                   f"requests slower than {latency.boundary_ms:g} ms (p={t.p_value:.2g})")  # fmt: skip
    r = latency.rank
    if r is not None:
        out.append(f"latency shift {latency.rank_verdict.value}: P(canary slower) = {r.cles:.2f} "
                   f"[{r.cles_lo:.2f}, {r.cles_hi:.2f}]")  # fmt: skip
    return out


def _duration(seconds: float | None) -> str:
    if seconds is None or math.isinf(seconds):
        return "?"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
