"""Trace-derived nodes are named exactly as the metrics side names the same request (model.nodes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from observe.model.ids import UNKNOWN, GraphType, NodeKey, NodeKind
from observe.model.nodes import destination_node, source_node
from observe.model.pairing import PairedRequest
from observe.model.samples import EdgeLabels, Workload
from observe.model.spans import Peer, SpanKind, SpanRecord
from observe.model.trace_nodes import Endpoint, EndpointKind, destination_endpoint, edge_key, node_for

FQDN = "reviews.bookinfo.svc.cluster.local"
CLIENT = SpanRecord(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="00000000000000c1", parent_id=None, kind=SpanKind.CLIENT,
    service="productpage", version="v1", namespace="bookinfo", workload="productpage-v1",
    peer=Peer("reviews", "bookinfo", "v2", FQDN), operation="op", start_s=100.0, duration_ms=12.0,
    status_code=200, error=False,
)  # fmt: skip
SERVER = CLIENT._replace(span_id="0000000000000051", parent_id="00000000000000c1", kind=SpanKind.SERVER,
                 service="reviews", version="v2", workload="reviews-v2", peer=None)  # fmt: skip
METRIC_EDGE = EdgeLabels(
    source=Workload("bookinfo", "productpage-v1", "productpage", "v1"),
    destination=Workload("bookinfo", "reviews-v2", "reviews", "v2"),
    destination_service=FQDN,
    protocol="http",
)


@pytest.mark.parametrize("graph", list(GraphType))
def test_paired_request_nodes_match_the_metrics_nodes(graph: GraphType) -> None:
    source, destination = edge_key(PairedRequest.paired(CLIENT, [SERVER]), graph)
    assert source == source_node(METRIC_EDGE, graph)
    assert destination == destination_node(METRIC_EDGE, graph)


def test_node_ids_per_graph_type() -> None:
    request = PairedRequest.paired(CLIENT, [SERVER])
    ids = {graph: tuple(node.id for node in edge_key(request, graph)) for graph in GraphType}
    assert ids == {
        GraphType.VERSIONED_APP: ("bookinfo/productpage/v1", "bookinfo/reviews/v2"),
        GraphType.APP: ("bookinfo/productpage", "bookinfo/reviews"),
        GraphType.WORKLOAD: ("bookinfo/wl/productpage-v1", "bookinfo/wl/reviews-v2"),
        GraphType.SERVICE: ("bookinfo/svc/productpage", "bookinfo/svc/reviews"),
    }
    source, _ = edge_key(request, GraphType.VERSIONED_APP)
    assert source.workload == "productpage-v1"  # described, not identity


@pytest.mark.parametrize("graph", list(GraphType))
def test_virtual_peer_is_the_service_node_metrics_use_for_unanswered_requests(graph: GraphType) -> None:
    _, destination = edge_key(PairedRequest.unanswered(CLIENT), graph)
    unanswered = replace(METRIC_EDGE, destination=Workload("bookinfo", UNKNOWN, UNKNOWN, UNKNOWN))
    assert destination == destination_node(unanswered, graph)
    assert destination == NodeKey(NodeKind.SERVICE, "bookinfo", service="reviews")


def test_virtual_peer_outside_the_cluster_or_without_peer() -> None:
    external = PairedRequest.unanswered(CLIENT._replace(peer=Peer("api.example.com")))
    assert edge_key(external, GraphType.APP)[1] == NodeKey(NodeKind.SERVICE, UNKNOWN, service="api.example.com")
    nobody = PairedRequest.unanswered(CLIENT._replace(peer=None))
    assert edge_key(nobody, GraphType.APP)[1] == NodeKey(NodeKind.SERVICE, UNKNOWN, service=UNKNOWN)


@pytest.mark.parametrize("graph", list(GraphType))
def test_unknown_caller_is_the_unknown_node(graph: GraphType) -> None:
    source, destination = edge_key(PairedRequest.from_unknown(SERVER), graph)
    assert source == NodeKey(NodeKind.UNKNOWN, UNKNOWN) and source.id == "unknown"
    no_sidecar = replace(METRIC_EDGE, source=Workload(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN))
    assert source == source_node(no_sidecar, graph)
    if graph is not GraphType.SERVICE:
        assert destination == destination_node(METRIC_EDGE, graph)


def test_service_graph_uses_the_called_service_name() -> None:
    # the app label differs from the Kubernetes service it is reached through
    request = PairedRequest.paired(CLIENT, [SERVER._replace(service="reviews-app")])
    assert edge_key(request, GraphType.SERVICE)[1].id == "bookinfo/svc/reviews"
    assert edge_key(request, GraphType.APP)[1].id == "bookinfo/reviews-app"


def test_span_without_workload_is_named_by_its_app_on_the_workload_graph() -> None:
    request = PairedRequest.paired(CLIENT._replace(peer=None), [SERVER._replace(workload=UNKNOWN)])
    endpoint = destination_endpoint(request)
    assert endpoint == Endpoint(EndpointKind.WORKLOAD, "bookinfo", "reviews", "v2", "", "reviews", "bookinfo")
    assert node_for(endpoint, GraphType.WORKLOAD).id == "bookinfo/wl/reviews"
    assert node_for(endpoint, GraphType.VERSIONED_APP).workload == ""
