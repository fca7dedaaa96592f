import math
from collections.abc import Iterable
from dataclasses import replace

import networkx as nx
import pytest

from observe.model.edge_stats import Health, HealthThresholds, Percentile
from observe.model.ids import GraphType, NodeKey, NodeKind
from observe.model.samples import LatencyQuantile, RequestRate, Rows, VectorSample
from observe.model.topology import Topology, build_topology, forget_plans
from observe.model.wire import topology_to_wire
from observe.sources.istio_queries import edge_labels, parse_quantiles, parse_rates, quantile_head, rate_head
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, REVIEWS_SVC, UNREACHED_REVIEWS, bookinfo_rates, rate

AS_OF = 1795414065.0


def build(graph: GraphType = GraphType.VERSIONED_APP, quantiles: list[LatencyQuantile] | None = None,
          namespaces: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]  # fmt: skip
    return build_topology(graph, parse_rates(bookinfo_rates()), quantiles or [], as_of=AS_OF, window_s=60,
                          namespaces=namespaces)  # fmt: skip


def test_versioned_app_edges_and_reporter_dedup() -> None:
    topo = build()
    edges = set(topo.graph.edges)
    assert edges == {
        ("unknown", "bookinfo/productpage/v1"),
        ("bookinfo/productpage/v1", "bookinfo/reviews/v1"),
        ("bookinfo/productpage/v1", "bookinfo/reviews/v2"),
        ("bookinfo/productpage/v1", "bookinfo/reviews/v3"),
        ("bookinfo/productpage/v1", "bookinfo/details/unknown"),
        ("bookinfo/reviews/v2", "bookinfo/ratings/v1"),
        ("bookinfo/productpage/v1", "bookinfo/svc/reviews"),
    }
    # the source-reported copy of productpage→reviews-v1 is not added to the destination one
    assert topo.edge_stats("bookinfo/productpage/v1", "bookinfo/reviews/v1").rps == pytest.approx(3.0)


def test_success_rate_4xx_and_5xx() -> None:
    topo = build()
    v2 = topo.edge_stats("bookinfo/productpage/v1", "bookinfo/reviews/v2")
    assert v2.rps == pytest.approx(3.0)
    assert v2.success_rate == pytest.approx(0.8)
    assert v2.error_rate_5xx == pytest.approx(0.2)
    v3 = topo.edge_stats("bookinfo/productpage/v1", "bookinfo/reviews/v3")
    assert v3.success_rate == pytest.approx(1.0)  # a 404 is the caller's problem, not a failure
    assert v3.rate_4xx == pytest.approx(0.1 / 3.0)
    assert v2.health(HealthThresholds()) is Health.FAILING
    assert topo.node_health("bookinfo/reviews/v2") is Health.FAILING


def test_unreached_requests_go_to_a_service_node_with_their_flags() -> None:
    topo = build()
    stats = topo.edge_stats("bookinfo/productpage/v1", "bookinfo/svc/reviews")
    assert stats.rps == pytest.approx(0.5)
    assert dict(stats.flags) == {"UO": pytest.approx(0.5)}
    assert stats.success_rate == pytest.approx(0.0)
    assert topo.node_key("bookinfo/svc/reviews").kind is NodeKind.SERVICE


def test_missing_version_is_unknown_not_dropped() -> None:
    key = build().node_key("bookinfo/details/unknown")
    assert (key.app, key.version) == ("details", "unknown")


def test_app_graph_merges_versions() -> None:
    topo = build(GraphType.APP)
    stats = topo.edge_stats("bookinfo/productpage", "bookinfo/reviews")
    assert stats.rps == pytest.approx(3.0 + 3.0 + 3.0)
    assert stats.success_rate == pytest.approx(1 - 0.6 / 9.0)
    assert ("bookinfo/reviews", "bookinfo/ratings") in topo.graph.edges


def test_workload_graph_uses_workload_ids() -> None:
    topo = build(GraphType.WORKLOAD)
    assert ("bookinfo/wl/productpage-v1", "bookinfo/wl/reviews-v2") in topo.graph.edges
    key = topo.node_key("bookinfo/wl/reviews-v2")
    assert (key.kind, key.app, key.version) == (NodeKind.WORKLOAD, "reviews", "v2")


def test_service_graph_uses_destination_services() -> None:
    topo = build(GraphType.SERVICE)
    stats = topo.edge_stats("bookinfo/svc/productpage", "bookinfo/svc/reviews")
    # served requests of all versions plus the unreached (UO) ones all land on the reviews service
    assert stats.rps == pytest.approx(9.0 + 0.5)
    assert "UO" in stats.flags


def test_namespace_filter_keeps_edges_touching_selection() -> None:
    assert build(namespaces=frozenset({"other"})).graph.number_of_edges() == 0
    assert build(namespaces=frozenset({"bookinfo"})).graph.number_of_edges() == 7


def test_percentiles_attach_with_bucket_bounds() -> None:
    edge = edge_labels({**PRODUCTPAGE_SRC, **REVIEWS["v2"], "destination_service": REVIEWS_SVC})
    quantiles = [LatencyQuantile(edge, 0.99, 88.0), LatencyQuantile(edge, 0.5, 12.0),
                 LatencyQuantile(edge, 0.95, math.nan)]  # fmt: skip
    stats = build(quantiles=quantiles).edge_stats("bookinfo/productpage/v1", "bookinfo/reviews/v2")
    p99 = stats.percentiles[0.99]
    assert (p99.value_ms, p99.lower_ms, p99.upper_ms, p99.overflow) == (88.0, 50, 100, False)
    assert 0.95 not in stats.percentiles  # NaN: no requests in the window


@pytest.mark.parametrize("value", [0.2, 0.5, 1.0, 88.0, 100.0, 3_599_999.0, 3_600_000.0, 9e9])
def test_the_build_places_a_percentile_in_the_bucket_percentile_estimate_does(value: float) -> None:
    """The build inlines Percentile.estimate (the per-sample path): below the first bound, on a bound, past the
    last finite bound (overflow)."""
    edge = edge_labels({**PRODUCTPAGE_SRC, **REVIEWS["v2"], "destination_service": REVIEWS_SVC})
    stats = build(quantiles=[LatencyQuantile(edge, 0.99, value)]).edge_stats(
        "bookinfo/productpage/v1", "bookinfo/reviews/v2"
    )
    assert stats.percentiles[0.99] == Percentile.estimate(value)


def test_parse_quantiles_reads_the_union_label() -> None:
    labels = {**PRODUCTPAGE_SRC, **REVIEWS["v1"], "destination_service": REVIEWS_SVC, "quantile": "0.95"}
    [q] = parse_quantiles([VectorSample(labels, 40.1)])
    assert (q.quantile, q.value_ms, q.edge.destination.version) == (0.95, 40.1, "v1")


def test_wire_shape() -> None:
    wire = topology_to_wire(build())
    assert wire["graph"] == "versioned-app" and wire["window_s"] == 60 and wire["stale"] is False
    edge = next(e for e in wire["edges"] if e["target"] == "bookinfo/reviews/v2")
    assert set(edge) >= {
        "source", "target", "protocol", "rps", "success_rate", "error_rate_5xx", "rate_4xx", "p50_ms", "p95_ms",
        "p99_ms", "p99_bounds_ms", "responses", "flags", "seen_by", "health",
    }  # fmt: skip
    assert edge["responses"] == {"200": 2.4, "500": 0.6}
    assert edge["p99_ms"] is None and edge["health"] == "failing"
    node = next(n for n in wire["nodes"] if n["id"] == "bookinfo/reviews/v2")
    assert node["workload"] == "reviews-v2" and node["rps_in"] == 3.0 and node["rps_out"] == 3.0


@pytest.mark.parametrize("graph", list(GraphType))
def test_wire_nodes_agree_with_the_model(graph: GraphType) -> None:
    """The wire sums node rates and health in its one pass over the edges: the same as asking the model."""
    topo = build(graph)
    g, nodes = topo.graph, topology_to_wire(topo)["nodes"]
    for node in nodes:
        n = node["id"]
        assert node["health"] == topo.node_health(n).value
        assert node["rps_in"] == pytest.approx(sum(topo.edge_stats(s, n).rps for s, _ in g.in_edges(n)), abs=1e-4)
        assert node["rps_out"] == pytest.approx(sum(topo.edge_stats(n, t).rps for _, t in g.out_edges(n)), abs=1e-4)
    assert {n["health"] for n in nodes} >= {"idle", "healthy"}


def test_node_identity_ignores_workload_for_app_nodes() -> None:
    a = NodeKey(NodeKind.APP, "ns", app="a", version="v1", workload="a-v1")
    b = NodeKey(NodeKind.APP, "ns", app="a", version="v1", workload="a-v1-canary")
    assert a == b and hash(a) == hash(b)
    assert NodeKey(NodeKind.WORKLOAD, "ns", workload="x") != NodeKey(NodeKind.WORKLOAD, "ns", workload="y")


def test_app_percentiles_come_from_one_merged_histogram_per_edge() -> None:
    # The percentile query groups by identity labels only: one sample per app edge, no workload labels.
    edge = edge_labels({
        "source_workload_namespace": "bookinfo", "source_canonical_service": "productpage",
        "destination_workload_namespace": "bookinfo", "destination_canonical_service": "reviews",
    })  # fmt: skip
    stats = build(GraphType.APP, [LatencyQuantile(edge, 0.99, 120.0)]).edge_stats(
        "bookinfo/productpage", "bookinfo/reviews"
    )
    assert stats.percentiles[0.99].value_ms == 120.0  # attached to the app edge, not to a service node


def test_an_interned_label_object_maps_to_each_graph_types_nodes() -> None:
    """The nodes memoised on a label object are per graph type."""
    rates = parse_rates(bookinfo_rates())  # the parser interns label objects: every build sees the same ones
    for _ in range(2):
        versioned = build_topology(GraphType.VERSIONED_APP, rates, [], as_of=AS_OF, window_s=60)
        service = build_topology(GraphType.SERVICE, rates, [], as_of=AS_OF, window_s=60)
        assert ("bookinfo/productpage/v1", "bookinfo/reviews/v2") in versioned.graph.edges
        assert ("bookinfo/svc/productpage", "bookinfo/svc/reviews") in service.graph.edges
        assert not any("/svc/" in n for n in versioned.graph if n != "bookinfo/svc/reviews")
    assert rates[0].edge == replace(rates[0].edge, nodes={})  # the memo is not part of the labels' identity


def test_a_quantiles_tuple_is_grouped_once_and_a_list_every_time() -> None:
    rates = parse_rates(bookinfo_rates())
    labels = {**PRODUCTPAGE_SRC, **REVIEWS["v2"], "quantile": "0.99"}
    quantiles = parse_quantiles([VectorSample(labels, 40.1)])
    edge = ("bookinfo/productpage/v1", "bookinfo/reviews/v2")

    def p99(given: Iterable[LatencyQuantile]) -> tuple[object, float]:
        stats = build_topology(GraphType.VERSIONED_APP, rates, given, as_of=AS_OF, window_s=60).edge_stats(*edge)
        return stats.percentiles, stats.percentiles[0.99].value_ms

    frozen = tuple(quantiles)
    assert p99(frozen)[0] is p99(frozen)[0]  # grouped once: the refreshes between two percentile queries
    assert p99(quantiles)[1] == 40.1
    quantiles[0] = quantiles[0]._replace(value_ms=55.0)
    assert p99(quantiles)[1] == 55.0  # a list may change under the same id: never remembered


def _scaled(factor: float, samples: list[VectorSample] | None = None) -> list[RequestRate]:
    """A later refresh of the same series: new sample objects, every value scaled."""
    return parse_rates([VectorSample(s.labels, s.value * factor) for s in samples or bookinfo_rates()])


def _from_scratch(rates: list[RequestRate], graph: GraphType = GraphType.VERSIONED_APP) -> Topology:
    forget_plans()
    return build_topology(graph, rates, [], as_of=AS_OF, window_s=60)


@pytest.mark.parametrize("graph", list(GraphType))
def test_a_refresh_of_the_same_series_reuses_the_views_graph_and_folds_its_new_values(graph: GraphType) -> None:
    first = _from_scratch(_scaled(1.0), graph)
    later = build_topology(graph, _scaled(2.0), [], as_of=AS_OF, window_s=60)
    assert later.graph is first.graph and nx.is_frozen(later.graph)
    assert later.stats == _from_scratch(_scaled(2.0), graph).stats
    assert [later.edge_stats(*e).rps for e in later.graph.edges] == [2 * first.edge_stats(*e).rps
                                                                    for e in first.graph.edges]  # fmt: skip


@pytest.mark.parametrize("change", ["a new code", "a new flag", "a series gone", "another order"])
def test_rates_whose_series_changed_are_planned_again(change: str) -> None:
    samples = bookinfo_rates()
    first = _from_scratch(parse_rates(samples))
    if change == "a new code":
        samples.append(rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC, "503", 1.0))
    elif change == "a new flag":
        samples[-1] = rate(PRODUCTPAGE_SRC, UNREACHED_REVIEWS, REVIEWS_SVC, "503", 0.5, "source", "UO,URX")
    elif change == "a series gone":
        del samples[3]
    else:
        samples.reverse()
    later = build_topology(GraphType.VERSIONED_APP, parse_rates(samples), [], as_of=AS_OF, window_s=60)
    assert later.stats == _from_scratch(parse_rates(samples)).stats
    assert (later.stats != first.stats) is (change != "another order")


def test_each_view_keeps_its_own_plan() -> None:
    forget_plans()
    rates = parse_rates(bookinfo_rates())
    whole = build_topology(GraphType.VERSIONED_APP, rates, [], as_of=AS_OF, window_s=60)
    narrowed = build_topology(GraphType.VERSIONED_APP, rates, [], as_of=AS_OF, window_s=60,
                              namespaces=frozenset({"elsewhere"}))  # fmt: skip
    again = build_topology(GraphType.VERSIONED_APP, _scaled(3.0), [], as_of=AS_OF, window_s=60)
    assert again.graph is whole.graph and narrowed.graph.number_of_edges() == 0 < whole.graph.number_of_edges()


def test_a_build_from_parsed_rows_is_the_build_from_typed_samples() -> None:
    """A refresh builds from the answers as parsed (heads and values); tests and tools from typed samples."""
    samples = bookinfo_rates()
    quantile_samples = [VectorSample({**PRODUCTPAGE_SRC, **REVIEWS["v2"], "quantile": q}, v)
                        for q, v in (("0.5", 12.0), ("0.99", 80.0))]  # fmt: skip
    rows = Rows([rate_head(s.labels) for s in samples], [s.value for s in samples])
    quantile_rows = Rows([quantile_head(s.labels) for s in quantile_samples], [s.value for s in quantile_samples])
    forget_plans()
    from_rows = build_topology(GraphType.VERSIONED_APP, rows, quantile_rows, as_of=AS_OF, window_s=60)
    forget_plans()
    typed = build_topology(GraphType.VERSIONED_APP, parse_rates(samples), parse_quantiles(quantile_samples),
                           as_of=AS_OF, window_s=60)  # fmt: skip
    assert topology_to_wire(from_rows) == topology_to_wire(typed)
    assert from_rows.edge_stats("bookinfo/productpage/v1", "bookinfo/reviews/v2").percentiles[0.99].value_ms == 80.0
    again = build_topology(GraphType.VERSIONED_APP, Rows(rows.heads, [2 * v for v in rows.values]), quantile_rows,
                           as_of=AS_OF, window_s=60)  # fmt: skip
    assert again.graph is typed.graph  # the same heads: the view's plan
