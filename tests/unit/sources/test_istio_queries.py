from observe.model.ids import GraphType
from observe.model.samples import VectorSample
from observe.sources.istio_queries import (
    KEY_LABEL,
    RULE_BUCKETS,
    RULE_REQUESTS,
    UNKEYABLE,
    keyed,
    keyed_labels,
    parse_rates,
    quantile_head,
    quantiles_query,
    rate_head,
    rates_query,
)
from tests.unit.bookinfo_samples import (
    DETAILS_NO_VERSION,
    PRODUCTPAGE_SRC,
    REVIEWS,
    REVIEWS_SVC,
    UNREACHED_REVIEWS,
    bookinfo_rates,
    rate,
)


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


def test_a_keyed_query_joins_every_label_of_its_series_into_one() -> None:
    query = keyed(quantiles_query(GraphType.APP, 60), keep=("quantile",))
    assert query.startswith(f"sum by ({KEY_LABEL}, quantile) (label_join(label_replace(histogram_quantile(")
    assert f'"{KEY_LABEL}", "|", "source_workload_namespace", "source_workload",' in query


def _unreached_and_mirrored() -> list[VectorSample]:
    return [
        rate(PRODUCTPAGE_SRC, UNREACHED_REVIEWS, REVIEWS_SVC, "503", 0.5, "source", "UO,URX"),
        rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC + "-shadow", "200", 1.0),
        rate(PRODUCTPAGE_SRC, DETAILS_NO_VERSION, "details.bookinfo.svc.cluster.local", "200", 2.0),
    ]


def test_keyed_series_parse_to_the_heads_of_the_plain_ones() -> None:
    for sample in bookinfo_rates() + _unreached_and_mirrored():
        assert rate_head(keyed_labels(sample.labels)) == rate_head(sample.labels)
        with_quantile = {**sample.labels, "quantile": "0.95"}
        assert quantile_head(keyed_labels(with_quantile, keep=("quantile",))) == quantile_head(with_quantile)
    assert quantile_head(keyed_labels({**PRODUCTPAGE_SRC, "quantile": "0.5"})) is None  # the quantile not kept


def test_a_key_that_does_not_split_into_its_labels_is_told_apart() -> None:
    """A label value holding the separator: services.refresh then asks that view plainly."""
    labels = keyed_labels(bookinfo_rates()[1].labels)
    assert rate_head({KEY_LABEL: labels[KEY_LABEL] + "|extra"}) is UNKEYABLE
    assert quantile_head({KEY_LABEL: "a|b", "quantile": "0.5"}) is UNKEYABLE
    one = bookinfo_rates()[1]
    assert parse_rates([VectorSample({KEY_LABEL: "a|b"}, 1.0), one]) == parse_rates([one])
