import networkx as nx
import pytest

from observe.model.diff import LATENCY_COST_MS, diff_to_wire, diff_topologies
from observe.model.edge_stats import EdgeStats, Percentile
from observe.model.ids import GraphType
from observe.model.topology import Topology

PP, V1, V2, RATINGS, DETAILS = ("bookinfo/productpage/v1", "bookinfo/reviews/v1", "bookinfo/reviews/v2",
                                "bookinfo/ratings/v1", "bookinfo/details/v1")  # fmt: skip
Edges = dict[tuple[str, str], tuple[float, float, float | None]]  # (source, target) → (rps, 5xx rps, p99 ms)


def topology(edges: Edges) -> Topology:
    stats = {}
    for edge, (rps, errors, p99) in edges.items():
        percentiles = {0.99: Percentile.estimate(p99)} if p99 is not None else {}
        stats[edge] = EdgeStats(rps, {"200": rps - errors, "500": errors}, {}, "http", frozenset(), percentiles)
    return Topology(GraphType.VERSIONED_APP, 0.0, 300.0, nx.DiGraph(list(edges)), stats)


BEFORE: Edges = {(PP, V1): (10.0, 0.0, 50.0), (PP, V2): (10.0, 0.0, 50.0), (V2, RATINGS): (10.0, 0.0, 20.0)}


def test_an_error_spike_ranks_first_and_is_counted_once() -> None:
    after = {**BEFORE, (PP, V2): (10.0, 5.0, 50.0)}
    diff = diff_topologies(topology(BEFORE), topology(after))
    top = diff.edges[0]
    assert (top.source, top.target, top.status) == (PP, V2, "both")
    # 5 rps more failures at constant traffic = 5 rps fewer successes: one loss of 5 rps, not 10
    assert top.lost_rps == pytest.approx(5.0)
    assert top.impact == pytest.approx(5.0 / 30.0)
    assert [e.impact for e in diff.edges[1:]] == [0.0, 0.0]


def test_added_latency_times_traffic_is_weighed_against_lost_requests() -> None:
    # +500 ms of P99 on 10 rps = 5 "rps-equivalents"; 2 rps of new errors on the other edge rank below it
    after = {**BEFORE, (PP, V1): (10.0, 0.0, 550.0), (PP, V2): (10.0, 2.0, 50.0)}
    diff = diff_topologies(topology(BEFORE), topology(after))
    assert [(e.target, e.slowdown_rps, e.lost_rps) for e in diff.edges[:2]] == [
        (V1, pytest.approx(500.0 / LATENCY_COST_MS * 10.0), 0.0), (V2, 0.0, pytest.approx(2.0))]
    # a faster edge is no impact
    faster = diff_topologies(topology(after), topology(BEFORE))
    assert next(e for e in faster.edges if e.target == V1).slowdown_rps == 0.0


def test_added_and_removed_edges_and_nodes() -> None:
    after: Edges = {(PP, V1): (10.0, 0.0, 50.0), (PP, DETAILS): (4.0, 0.0, 10.0)}
    diff = diff_topologies(topology(BEFORE), topology(after))
    status = {(e.source, e.target): e.status for e in diff.edges}
    assert status == {(PP, V1): "both", (PP, V2): "removed", (V2, RATINGS): "removed", (PP, DETAILS): "added"}
    assert diff.added_nodes == (DETAILS,) and diff.removed_nodes == (RATINGS, V2)
    # the removed edges lost all their successful requests; the new edge costs nothing
    assert {(e.target, e.lost_rps) for e in diff.edges if e.status == "removed"} == {(V2, 10.0), (RATINGS, 10.0)}
    assert next(e for e in diff.edges if e.status == "added").impact == 0.0


def test_an_unreadable_side_gives_unknown_not_removed() -> None:
    diff = diff_topologies(topology(BEFORE), topology({}), b_complete=False)
    assert {e.status for e in diff.edges} == {"unknown"} and diff.removed_nodes == ()
    assert all(e.impact == 0.0 for e in diff.edges)


def test_ranking_is_total_and_the_wire_has_deltas() -> None:
    after = {**BEFORE, (PP, V2): (12.0, 6.0, None)}
    wire = diff_to_wire(diff_topologies(topology(BEFORE), topology(after)))
    first = wire["edges"][0]
    assert (first["target"], first["delta"]["rps"], first["delta"]["success_rate"], first["delta"]["p99_ms"]) == (
        V2, 2.0, -0.5, None)
    assert first["a"]["health"] == "healthy" and first["b"]["health"] == "failing"
    # ties (impact 0) are broken by ids, so two runs give the same order
    assert [e["target"] for e in wire["edges"][1:]] == [V1, RATINGS]
    assert "impact" in wire["ranking"]
