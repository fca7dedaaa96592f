import math

import pytest

from observe.model.quantiles import ENVOY_BUCKETS_MS, bucket_bounds, histogram_quantile

INF = math.inf


def test_linear_interpolation_inside_bucket() -> None:
    # 100 observations: 50 ≤ 10ms, 90 ≤ 50ms, all ≤ 100ms. rank(0.99) = 99 → bucket (50, 100].
    buckets = [(10, 50), (50, 90), (100, 100), (INF, 100)]
    assert histogram_quantile(0.99, buckets) == pytest.approx(50 + 50 * (99 - 90) / 10)
    assert histogram_quantile(0.5, buckets) == pytest.approx(10.0)
    assert histogram_quantile(0.25, buckets) == pytest.approx(5.0)  # first bucket interpolates from 0


def test_quantile_in_inf_bucket_returns_largest_finite_bound() -> None:
    buckets = [(10, 50), (50, 90), (INF, 100)]
    assert histogram_quantile(0.99, buckets) == 50


def test_edge_cases_follow_prometheus() -> None:
    buckets = [(1, 1), (INF, 2)]
    assert histogram_quantile(-0.1, buckets) == -INF
    assert histogram_quantile(1.1, buckets) == INF
    assert math.isnan(histogram_quantile(0.5, [(1, 0), (INF, 0)]))
    assert math.isnan(histogram_quantile(0.5, [(1, 1), (2, 2)]))  # no +Inf bucket


def test_non_monotonic_counts_are_fixed_with_running_max() -> None:
    # A counter reset between buckets can make a later bucket smaller; Prometheus takes the running max.
    assert histogram_quantile(0.5, [(10, 60), (20, 40), (INF, 100)]) == pytest.approx(10 * 50 / 60)


def test_unsorted_input() -> None:
    assert histogram_quantile(0.5, [(INF, 4), (2, 2), (1, 0)]) == pytest.approx(2.0)


@pytest.mark.parametrize(("value", "bounds"), [(0.2, (0, 0.5)), (7.0, (5, 10)), (100.0, (50, 100)),
                                               (88.0, (50, 100)), (3600000.0, (3600000, INF))])  # fmt: skip
def test_bucket_bounds(value: float, bounds: tuple[float, float]) -> None:
    assert bucket_bounds(value, ENVOY_BUCKETS_MS) == bounds
