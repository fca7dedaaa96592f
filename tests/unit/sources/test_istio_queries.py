from observe.model.ids import GraphType
from observe.sources.istio_queries import RULE_BUCKETS, RULE_REQUESTS, quantiles_query, rates_query


def test_raw_plan_reads_counters_with_both_reporter_branches() -> None:
    q = rates_query(GraphType.APP, 300)
    assert q.count("rate(istio_requests_total{") == 2 and "[5m]" in q
    assert 'reporter="source",destination_workload="unknown"' in q


def test_rules_replace_raw_series_for_whole_minute_windows() -> None:
    one_minute = rates_query(GraphType.VERSIONED_APP, 60, rules=True)
    assert f"{RULE_REQUESTS}{{" in one_minute and "rate(" not in one_minute and "over_time" not in one_minute
    five = rates_query(GraphType.VERSIONED_APP, 300, rules=True)
    assert f"avg_over_time({RULE_REQUESTS}{{" in five and "[5m]" in five
    quantiles = quantiles_query(GraphType.VERSIONED_APP, 120, rules=True)
    assert f"avg_over_time({RULE_BUCKETS}{{" in quantiles and "histogram_quantile(0.99" in quantiles


def test_windows_the_rules_cannot_answer_stay_raw() -> None:
    for window in (30, 90):
        assert RULE_REQUESTS not in rates_query(GraphType.APP, window, rules=True)
        assert RULE_BUCKETS not in quantiles_query(GraphType.APP, window, rules=True)


def test_percentiles_group_by_identity_only() -> None:
    q = quantiles_query(GraphType.APP, 60)
    assert "destination_workload," not in q and "sum by (le, source_workload_namespace" in q
