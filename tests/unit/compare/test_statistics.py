"""Pure statistics: Kayenta's fixtures, power and false-alarm rates by simulation (seeded), edge cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from observe.compare.analysis import VersionData, analyse
from observe.compare.latency import align, compare_samples, ecdf, percentile_interval
from observe.compare.mix import Outbound, compare_outbound, mix_check
from observe.compare.proportions import n_to_detect, newcombe, wilson
from observe.compare.ranks import bucket_rank_test, hodges_lehmann
from observe.compare.sequential import SpendingState, VerdictHistory, n_plan, spent
from observe.compare.verdict import Verdict, judge_proportion


def test_kayenta_mann_whitney_fixture() -> None:
    shift = hodges_lehmann([10, 20, 30, 40], [1, 2, 3, 4], 0.95)  # MannWhitneySuite "CI & Estimate"
    assert shift.lo == pytest.approx(6.0, abs=1e-6) and shift.hi == pytest.approx(39.0, abs=1e-6)
    assert shift.estimate == pytest.approx(22.5, abs=1e-4)


def test_bucket_rank_test_matches_scipy_on_expanded_data() -> None:
    canary, baseline = [5, 10, 20, 3, 1], [8, 12, 10, 1, 0]
    result = bucket_rank_test(canary, baseline, 1.96)
    x, y = np.repeat(np.arange(5), canary), np.repeat(np.arange(5), baseline)
    ref = mannwhitneyu(x, y, alternative="greater", use_continuity=False, method="asymptotic")
    assert result.p_slower == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.cles == pytest.approx(ref.statistic / (len(x) * len(y)))
    assert result.cles_lo < result.cles < result.cles_hi


def test_sample_sizes_match_the_note() -> None:
    assert n_to_detect(0.005, 0.01, 0.05) == 3681
    assert n_to_detect(0.01, 0.02, 0.05) == 1826
    assert n_plan(0.005) == 3681


def test_wilson_and_newcombe_handle_zero_errors() -> None:
    w = wilson(0, 1000, 1.96)
    assert w.lo == 0.0 and 0.0 < w.hi < 0.004
    d = newcombe(5, 1000, 0, 1000, 1.645)
    assert not math.isnan(d.lo) and d.lo < 0.005 < d.hi


def _look_alpha(n: int, p_b: float) -> float:
    return SpendingState().look(n / n_plan(p_b), at=0.0, window_s=600)


def test_power_half_to_one_percent_at_3700() -> None:
    rng = np.random.default_rng(20240501)
    n, fails = 3700, 0
    for _ in range(200):
        e_b, e_c = int(rng.binomial(n, 0.005)), int(rng.binomial(n, 0.01))
        alpha = _look_alpha(n, max(e_b / n, 0.001))
        verdict = judge_proportion("errors", e_c, n, e_b, n, alpha).verdict
        fails += verdict in (Verdict.FAIL, Verdict.CRITICAL)
    assert fails / 200 >= 0.75, fails  # the design point is 80% (n=3,681); see the report for the measured rate


def test_a_a_with_ten_looks_rarely_fails() -> None:
    rng = np.random.default_rng(7)
    false_fails = 0
    for _ in range(200):
        state = SpendingState()
        e_b = e_c = n = 0
        failed = False
        for look in range(10):
            step = 370
            e_b += int(rng.binomial(step, 0.005))
            e_c += int(rng.binomial(step, 0.005))
            n += step
            alpha = state.look(n / n_plan(max(e_b / n, 0.001)), at=float(look), window_s=600)
            failed |= judge_proportion("errors", e_c, n, e_b, n, alpha).verdict in (Verdict.FAIL, Verdict.CRITICAL)
        false_fails += failed
    assert false_fails / 200 <= 0.05, false_fails


def test_spending_never_exceeds_alpha() -> None:
    state = SpendingState()
    levels = [state.look(t, at=i, window_s=100) for i, t in enumerate([0.1, 0.3, 0.3, 0.7, 1.0, 2.0])]
    assert sum(levels[i] for i in (0, 1, 3, 4)) == pytest.approx(0.05)  # new information spends the budget
    assert levels[2] == levels[1] and levels[5] == levels[4]  # no new information: the same level again
    fresh = state.look(0.5, at=200.0, window_s=100)  # the window moved past the first look: new data, new budget
    assert fresh == pytest.approx(spent(0.5))
    assert spent(1.0) == pytest.approx(0.05) and spent(0.0) == 0.0


def test_no_traffic_is_not_a_failure() -> None:
    assert judge_proportion("errors", 0, 0, 3, 1000, 0.05).verdict is Verdict.NO_TRAFFIC
    result = analyse(VersionData("v1", 1000, 3, 10.0), VersionData("v2", 0, 0, 0.0), 0.05)
    assert result.verdict is Verdict.NO_TRAFFIC and "v2" in result.reason


def test_thirty_requests_is_insufficient_with_needed_n() -> None:
    result = judge_proportion("errors", 0, 30, 5, 3000, 0.05)
    assert result.verdict is Verdict.INSUFFICIENT_DATA and result.needed_more > 100
    analysis = analyse(VersionData("v1", 3000, 5, 10.0), VersionData("v2", 30, 0, 0.5), 0.05)
    assert analysis.verdict is Verdict.INSUFFICIENT_DATA and analysis.eta_s is not None
    assert "more canary requests" in analysis.reason


def test_zero_baseline_errors_with_canary_errors() -> None:
    result = judge_proportion("errors", 40, 2000, 0, 2000, 0.05)
    assert result.verdict is Verdict.CRITICAL
    assert all(not math.isnan(v) for v in (result.p_value, result.diff_ci.lo, result.diff_ci.hi))
    assert result.to_wire()["baseline"]["rate"] == 0.0


def test_equal_healthy_versions_pass() -> None:
    assert judge_proportion("errors", 2, 20000, 3, 20000, 0.05).verdict is Verdict.PASS


def test_verdict_history_debounce() -> None:
    history = VerdictHistory(k=3)
    states = [history.record(v) for v in ("FAIL", "FAIL", "MARGINAL", "FAIL", "FAIL", "FAIL")]
    assert [s.stable_for for s in states] == [1, 2, 1, 1, 2, 3]
    assert [s.actionable for s in states] == [False] * 5 + [True]
    assert not VerdictHistory(k=1).record("INSUFFICIENT_DATA").actionable


def test_latency_histograms_and_percentile_intervals() -> None:
    bounds = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0)
    base = dict(zip(bounds, (900, 990, 1000, 1000, 1000, 1000), strict=True)) | {math.inf: 1000}
    slow = dict(zip(bounds, (0, 0, 10, 100, 500, 1000), strict=True)) | {math.inf: 1000}
    hb, hc = align(base, slow)
    assert percentile_interval(hb, 0.5) == (0.0, 5.0) and percentile_interval(hc, 0.99) == (100.0, 250.0)
    result = analyse(VersionData("v1", 1000, 0, 10.0, buckets=base), VersionData("v3", 1000, 0, 10.0, buckets=slow),
                     0.05)  # fmt: skip
    assert result.latency.rank_verdict is Verdict.CRITICAL and result.verdict is Verdict.CRITICAL
    assert "slower than 10 ms" in result.reason and "P(canary slower)" in result.reason


def test_trace_samples_shift_and_shape() -> None:
    rng = np.random.default_rng(3)
    base = rng.lognormal(3.0, 0.3, 500)
    result = compare_samples(base.tolist(), (base + 100).tolist())
    assert result.shift is not None and 95 < result.shift.lo <= result.shift.estimate <= result.shift.hi < 105
    assert result.ks_p is not None and result.ks_p < 1e-6
    wider = compare_samples(base.tolist(), rng.lognormal(3.0, 0.9, 500).tolist())
    assert wider.ks_p is not None and wider.ks_p < 1e-3  # a change of spread (kayenta#780)


def test_mix_and_outbound() -> None:
    assert mix_check({"productpage-v1": 1000}, {"productpage-v1": 900}).comparable
    skewed = mix_check({"a": 900, "b": 100}, {"a": 100, "b": 900})
    assert not skewed.comparable and skewed.distance == pytest.approx(0.8)
    result = analyse(VersionData("v1", 1000, 0, 1.0, callers={"a": 900, "b": 100}),
                     VersionData("v2", 1000, 0, 1.0, callers={"a": 100, "b": 900}), 0.05)  # fmt: skip
    assert result.verdict is Verdict.NOT_COMPARABLE and "callers differ" in result.reason
    edges = compare_outbound({"details": Outbound(100, 0)}, {"ratings": Outbound(200, 1), "details": Outbound(100, 0)},
                             100, 100)  # fmt: skip
    assert {e["service"]: e["change"] for e in edges} == {"details": "same", "ratings": "new"}
    twice = compare_outbound({"ratings": Outbound(100, 0)}, {"ratings": Outbound(200, 0)}, 100, 100)
    assert twice[0]["change"] == "more_calls" and twice[0]["canary"]["calls_per_request"] == 2.0


def test_ecdf_is_bounded_monotone_and_ends_at_the_maximum() -> None:
    values = [float(v) for v in range(1000, 0, -1)]
    points = ecdf(values, points=50)
    assert len(points) == 50 and points[0] == (1.0, 0.001) and points[-1] == (1000.0, 1.0)
    assert all(a[0] <= b[0] and a[1] < b[1] for a, b in itertools.pairwise(points))
    assert ecdf([]) == () and ecdf([3.0]) == ((3.0, 1.0),)
    wire = compare_samples([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]).to_wire()
    assert wire["ecdf"]["canary"] == [[2.0, 0.3333], [3.0, 0.6667], [4.0, 1.0]]
