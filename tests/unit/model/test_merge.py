import pytest

from observe.model.ids import GraphType, NodeKey, NodeKind
from observe.model.merge import NO_METRICS, disagreements, merge_traces
from observe.model.samples import LatencyQuantile
from observe.model.topology import build_topology
from observe.model.trace_stats import EdgeTraceStats
from observe.model.wire import topology_to_wire
from observe.sources.istio_queries import edge_labels, parse_rates
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, REVIEWS_SVC, bookinfo_rates

PRODUCTPAGE = NodeKey(NodeKind.APP, "bookinfo", app="productpage", version="v1")
REVIEWS_V2 = NodeKey(NodeKind.APP, "bookinfo", app="reviews", version="v2")
EXTERNAL = NodeKey(NodeKind.SERVICE, "unknown", service="api.example.com")


def trace(count: int = 400, errors: int = 80, p99: float = 70.0) -> EdgeTraceStats:
    return EdgeTraceStats(count, errors, errors / count, 10.0, 40.0, p99, ("ab" * 16,))


def topology():  # type: ignore[no-untyped-def]
    edge = edge_labels({**PRODUCTPAGE_SRC, **REVIEWS["v2"], "destination_service": REVIEWS_SVC})
    return build_topology(GraphType.VERSIONED_APP, parse_rates(bookinfo_rates()), [LatencyQuantile(edge, 0.99, 88.0)],
                          as_of=1.0, window_s=60)  # fmt: skip


def test_trace_stats_join_metric_edges_and_trace_only_edges_are_added() -> None:
    base = topology()
    merged = merge_traces(base, {(PRODUCTPAGE, REVIEWS_V2): trace(), (PRODUCTPAGE, EXTERNAL): trace(10, 0)}, 40.0)
    assert not base.graph.has_edge(PRODUCTPAGE.id, EXTERNAL.id)  # the shared metrics topology is untouched
    wire = {(e["source"], e["target"]): e for e in topology_to_wire(merged)["edges"]}
    both = wire[(PRODUCTPAGE.id, REVIEWS_V2.id)]
    assert both["seen_by"] == ["metrics", "traces"] and both["rps"] == 3.0
    assert both["trace"]["count"] == 400 and both["trace"]["p99_ms"] == 70.0 and both["disagreements"] == []
    assert (both["trace"]["window_s"], both["trace"]["rps"]) == (40.0, 10.0)
    only = wire[(PRODUCTPAGE.id, EXTERNAL.id)]
    assert only["seen_by"] == ["traces"] and only["rps"] is None and only["health"] == "unknown"
    assert [d["kind"] for d in only["disagreements"]] == ["trace_only"]
    assert wire[(PRODUCTPAGE.id, "bookinfo/reviews/v1")]["seen_by"] == ["metrics"]


def test_p99_far_outside_the_histogram_bucket_is_flagged() -> None:
    stats = topology().edge_stats(PRODUCTPAGE.id, REVIEWS_V2.id)  # histogram P99 88 ms in bucket [50, 100]
    assert disagreements(stats, trace(p99=140.0)) == []  # inside the slack: client spans include the hop
    assert disagreements(stats, trace(p99=30.0)) == []  # below the bucket by less than the absolute slack
    [p99] = disagreements(stats, trace(p99=400.0))
    assert p99.kind == "p99" and "[50, 100]" in p99.message
    assert disagreements(stats, trace(count=50, errors=10, p99=400.0)) == []  # too few samples to say


@pytest.mark.parametrize(("errors", "flagged"), [(80, False), (10, True), (200, True)])
def test_trace_error_rate_far_from_metrics_is_flagged(errors: int, flagged: bool) -> None:
    stats = topology().edge_stats(PRODUCTPAGE.id, REVIEWS_V2.id)  # metrics: 20% errors
    found = [d.kind for d in disagreements(stats, trace(errors=errors))]
    assert ("error_rate" in found) is flagged


def test_no_metrics_is_trace_only() -> None:
    assert [d.kind for d in disagreements(NO_METRICS, trace())] == ["trace_only"]


def test_a_trace_only_edge_adds_its_workload_to_the_merged_graph_alone() -> None:
    base = topology()
    canary = NodeKey(NodeKind.APP, "bookinfo", app="productpage", version="v1", workload="productpage-canary")
    merged = merge_traces(base, {(canary, EXTERNAL): trace(10, 0)}, 40.0)
    assert merged.graph.nodes[PRODUCTPAGE.id]["workloads"] == {"productpage-v1", "productpage-canary"}
    assert base.graph.nodes[PRODUCTPAGE.id]["workloads"] == {"productpage-v1"}  # shared, so never mutated
    assert merged.edge_stats(PRODUCTPAGE.id, EXTERNAL.id) is NO_METRICS and len(merged.stats) == len(base.stats) + 1
