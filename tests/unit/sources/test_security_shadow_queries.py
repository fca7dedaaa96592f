"""Issue 11: the rates query keeps connection_security_policy; percentiles and parsing leave mirrored copies out."""

from observe.model.ids import GraphType
from observe.model.samples import VectorSample
from observe.sources.istio_queries import parse_rates, quantiles_query, rates_query
from observe.sources.promql import Suffix
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, REVIEWS_SVC, rate


def test_rates_group_by_security_policy_in_both_branches() -> None:
    for rules in (False, True):
        query = rates_query(GraphType.VERSIONED_APP, 60, rules=rules)
        assert query.count("connection_security_policy") == 2


def test_percentiles_exclude_shadow_series() -> None:
    for graph in GraphType:
        for rules in (False, True):
            assert quantiles_query(graph, 60, rules=rules).count('destination_service!~".*-shadow"') == 3


def test_suffix_quotes_the_suffix() -> None:
    assert Suffix("destination_service", 'a.b"', exclude=True).render() == 'destination_service!~".*a\\\\.b\\""'
    assert Suffix("destination_service", "-shadow").render() == 'destination_service=~".*-shadow"'


def test_parse_reads_security_and_strips_the_shadow_suffix() -> None:
    plain = rate(PRODUCTPAGE_SRC, REVIEWS["v3"], REVIEWS_SVC, "200", 1.0)
    shadow = rate(PRODUCTPAGE_SRC, REVIEWS["v3"], REVIEWS_SVC + "-shadow", "200", 1.0)
    secured = VectorSample({**plain.labels, "connection_security_policy": "mutual_tls"}, 1.0)
    a, b, c = parse_rates([plain, shadow, secured])
    assert (a.edge.mirror, a.edge.security) == (False, "")
    assert (b.edge.mirror, b.edge.destination_service) == (True, REVIEWS_SVC)
    assert (c.edge.mirror, c.edge.security) == (False, "mutual_tls")
