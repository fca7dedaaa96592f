"""Issue 11: mTLS per edge, mirrored copies kept apart from user traffic, and mesh readiness per node."""

import pytest

from observe.model.ids import GraphType, NodeKey, NodeKind
from observe.model.merge import merge_traces
from observe.model.readiness import NO_VERSION, OUTSIDE_MESH, TRACES_ONLY, node_readiness
from observe.model.samples import VectorSample
from observe.model.topology import build_topology
from observe.model.trace_stats import EdgeTraceStats
from observe.model.wire import topology_to_wire
from observe.sources.istio_queries import parse_rates
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, REVIEWS_SVC, bookinfo_rates, rate

PRODUCTPAGE = "bookinfo/productpage/v1"
SHADOW = REVIEWS_SVC + "-shadow"


def secured(sample: VectorSample, policy: str) -> VectorSample:
    return VectorSample({**sample.labels, "connection_security_policy": policy}, sample.value)


def wire(samples: list[VectorSample], graph: GraphType = GraphType.VERSIONED_APP):  # type: ignore[no-untyped-def]
    topo = build_topology(graph, parse_rates(samples), [], as_of=1.0, window_s=60)
    out = topology_to_wire(topo)
    return {(e["source"], e["target"]): e for e in out["edges"]}, {n["id"]: n for n in out["nodes"]}


def test_security_is_mutual_tls_none_mixed_or_unknown() -> None:
    v1, v2, v3 = (rate(PRODUCTPAGE_SRC, REVIEWS[v], REVIEWS_SVC, "200", 1.0) for v in ("v1", "v2", "v3"))
    samples = [
        secured(v1, "mutual_tls"),
        secured(v2, "mutual_tls"), secured(v2, "none"),
        # source-reported copies know no policy; they are not counted either
        secured(rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC, "200", 1.0, reporter="source"), "unknown"),
        v3,  # no label at all (an older Istio)
    ]  # fmt: skip
    edges, _ = wire(samples)
    assert edges[(PRODUCTPAGE, "bookinfo/reviews/v1")]["security"] == "mutual_tls"
    assert edges[(PRODUCTPAGE, "bookinfo/reviews/v2")]["security"] == "mixed"
    assert edges[(PRODUCTPAGE, "bookinfo/reviews/v2")]["rps"] == 2.0  # the label splits samples, not the edge
    assert edges[(PRODUCTPAGE, "bookinfo/reviews/v3")]["security"] is None


def test_source_only_requests_have_unknown_security() -> None:
    unreached = [s for s in bookinfo_rates() if s.labels["reporter"] == "source" and s.labels["response_flags"] == "UO"]
    edges, _ = wire([secured(unreached[0], "unknown")])
    assert edges[(PRODUCTPAGE, "bookinfo/svc/reviews")]["security"] is None


def test_mirrored_copies_stay_out_of_user_numbers() -> None:
    samples = [
        rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC, "200", 4.0),
        rate(PRODUCTPAGE_SRC, REVIEWS["v1"], SHADOW, "200", 9.0),  # a mirror to v1 too: apart, on the same edge
        secured(rate(PRODUCTPAGE_SRC, REVIEWS["v3"], SHADOW, "200", 0.3), "mutual_tls"),
        secured(rate(PRODUCTPAGE_SRC, REVIEWS["v3"], SHADOW, "500", 0.1), "mutual_tls"),
    ]
    edges, nodes = wire(samples)
    primary = edges[(PRODUCTPAGE, "bookinfo/reviews/v1")]
    assert primary["rps"] == 4.0 and primary["responses"] == {"200": 4.0}
    assert primary["mirror"] == {"rps": 9.0, "success_rate": 1.0}
    only = edges[(PRODUCTPAGE, "bookinfo/reviews/v3")]
    assert only["rps"] == 0.0 and only["success_rate"] is None and only["seen_by"] == ["metrics"]
    assert (only["protocol"], only["security"]) == ("http", "mutual_tls")  # copies only: theirs
    assert only["mirror"]["rps"] == pytest.approx(0.4) and only["mirror"]["success_rate"] == pytest.approx(0.75)
    assert nodes["bookinfo/reviews/v3"]["rps_in"] == 0.0 and nodes["bookinfo/reviews/v3"]["health"] == "idle"
    assert edges[(PRODUCTPAGE, "bookinfo/reviews/v1")]["mirror"] is not None
    assert wire(samples[:1])[0][(PRODUCTPAGE, "bookinfo/reviews/v1")]["mirror"] is None


@pytest.mark.parametrize("graph", list(GraphType))
def test_no_shadow_node_in_any_graph_type(graph: GraphType) -> None:
    samples = [*bookinfo_rates(), rate(PRODUCTPAGE_SRC, REVIEWS["v3"], SHADOW, "200", 0.3)]
    edges, nodes = wire(samples, graph)
    assert not [n for n in nodes if "shadow" in n]
    assert any(e["mirror"] for e in edges.values())


def test_readiness_flags_unknown_version_outside_callers_and_trace_only_services() -> None:
    topo = build_topology(GraphType.VERSIONED_APP, parse_rates(bookinfo_rates()), [], as_of=1.0, window_s=60)
    caller = NodeKey(NodeKind.APP, "bookinfo", app="productpage", version="v1")
    legacy = NodeKey(NodeKind.APP, "legacy", app="billing", version="")
    topo = merge_traces(topo, {(caller, legacy): EdgeTraceStats(5, 0, 0.0, 1.0, 2.0, 3.0, ())}, 60.0)
    assert node_readiness(topo, "unknown") == [OUTSIDE_MESH]
    assert node_readiness(topo, "bookinfo/details/unknown") == [NO_VERSION]
    assert node_readiness(topo, legacy.id) == [TRACES_ONLY]
    assert node_readiness(topo, PRODUCTPAGE) == []  # it has trace-only edges, but metrics too
    assert node_readiness(topo, "bookinfo/svc/reviews") == []
    nodes = {n["id"]: n for n in topology_to_wire(topo)["nodes"]}
    assert nodes["bookinfo/details/unknown"]["readiness"] == [{"problem": NO_VERSION.problem, "fix": NO_VERSION.fix}]
    assert "version" in NO_VERSION.fix and "app" in NO_VERSION.fix and "istio-injection" in TRACES_ONLY.fix
    assert nodes["bookinfo/reviews/v2"]["readiness"] == []


def test_app_graph_does_not_flag_versions() -> None:
    topo = build_topology(GraphType.APP, parse_rates(bookinfo_rates()), [], as_of=1.0, window_s=60)
    assert node_readiness(topo, "bookinfo/details") == []
