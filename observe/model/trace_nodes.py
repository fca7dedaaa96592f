"""Which graph nodes a PairedRequest connects, named exactly as the metrics side names them (model.nodes).

A request's two sides are first reduced to `Endpoint`s, the finest identity traces give (namespace, app,
version, workload, and the Kubernetes service it was called through); `node_for` then projects an endpoint
onto any graph type, so statistics can be kept once per endpoint pair and rolled up to every graph type.

- caller: the client span's workload; no client span (traffic entering the mesh, untraced caller) → the
  single 'unknown' node, as Istio's metrics name a caller without a sidecar.
- callee: the server span's workload; on the service graph, the Kubernetes service the client called
  (its upstream cluster host) when it names an in-cluster service, else the callee's app.
- no server span (virtual peer) → NodeKey(SERVICE, peer namespace or 'unknown', peer service) on every graph
  type, as metrics name a destination that no workload answered.
- app nodes carry the workload as a description when it is known; on the workload graph a span without a
  workload is named by its app.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

from observe.model.ids import UNKNOWN, GraphType, NodeKey, NodeKind
from observe.model.nodes import workload_node
from observe.model.pairing import PairedRequest
from observe.model.samples import Workload
from observe.model.spans import SpanRecord


class EndpointKind(Enum):
    WORKLOAD = "workload"
    VIRTUAL = "virtual"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Endpoint:
    kind: EndpointKind
    namespace: str
    app: str = ""
    version: str = ""
    workload: str = ""
    service: str = ""  # the service-graph name
    service_namespace: str = ""


UNKNOWN_ENDPOINT = Endpoint(EndpointKind.UNKNOWN, UNKNOWN)


def source_endpoint(request: PairedRequest) -> Endpoint:
    client = request.client
    if client is None:
        return UNKNOWN_ENDPOINT
    return _workload_endpoint(client, client.service, client.namespace)


def destination_endpoint(request: PairedRequest) -> Endpoint:
    peer, server = request.peer, request.server
    if server is None:
        namespace = peer.namespace if peer is not None and peer.namespace else UNKNOWN
        return Endpoint(EndpointKind.VIRTUAL, namespace, service=peer.service if peer is not None else UNKNOWN)
    if peer is not None and peer.namespace:
        return _workload_endpoint(server, peer.service, peer.namespace)
    return _workload_endpoint(server, server.service, server.namespace)


def endpoints(request: PairedRequest) -> tuple[Endpoint, Endpoint]:
    return source_endpoint(request), destination_endpoint(request)


def _workload_endpoint(span: SpanRecord, service: str, service_namespace: str) -> Endpoint:
    return _interned(span.namespace, span.service, span.version, span.workload, service, service_namespace)


# Every request of an edge has the same endpoints: interning them makes the per-request cost a tuple lookup
# (and lets dict lookups keyed by endpoints hit on identity) instead of building and hashing a dataclass.
@functools.lru_cache(maxsize=65_536)
def _interned(namespace: str, app: str, version: str, workload: str, service: str, service_ns: str) -> Endpoint:
    return Endpoint(EndpointKind.WORKLOAD, namespace, app=app, version=version,
                    workload=workload if workload != UNKNOWN else "", service=service,
                    service_namespace=service_ns)  # fmt: skip


def node_for(endpoint: Endpoint, graph: GraphType) -> NodeKey:
    if endpoint.kind is EndpointKind.UNKNOWN:
        return NodeKey(NodeKind.UNKNOWN, UNKNOWN)
    if endpoint.kind is EndpointKind.VIRTUAL:
        return NodeKey(NodeKind.SERVICE, endpoint.namespace, service=endpoint.service)
    if graph is GraphType.SERVICE:
        return NodeKey(NodeKind.SERVICE, endpoint.service_namespace, service=endpoint.service)
    workload = endpoint.workload or (endpoint.app if graph is GraphType.WORKLOAD else "")
    return workload_node(Workload(endpoint.namespace, workload, endpoint.app, endpoint.version), graph)


def edge_key(request: PairedRequest, graph: GraphType) -> tuple[NodeKey, NodeKey]:
    """(source node, destination node) of the request on `graph`."""
    source, destination = endpoints(request)
    return node_for(source, graph), node_for(destination, graph)
