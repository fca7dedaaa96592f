"""Which node a metric sample's source or destination becomes, per graph type.

Rules (DESIGN §3): a caller with no sidecar (source workload 'unknown') is the single 'unknown' node; a request
that never reached a workload (destination workload 'unknown': UH, UF, UO, NR …) goes to a node of its
destination service, so those edges are kept; a missing version label is the version 'unknown', shown as such.
The service graph has no source-service label in Istio, so a caller is named by its canonical service.
"""

from __future__ import annotations

import functools

from observe.model.ids import UNKNOWN, GraphType, NodeKey, NodeKind
from observe.model.samples import EdgeLabels, Workload

_CLUSTER_SUFFIX = ".svc.cluster.local"


def split_service(fqdn: str, fallback_namespace: str) -> tuple[str, str]:
    """(namespace, name) of `reviews.bookinfo.svc.cluster.local`; other hosts keep the fallback namespace."""
    if fqdn.endswith(_CLUSTER_SUFFIX):
        parts = fqdn[: -len(_CLUSTER_SUFFIX)].split(".")
        if len(parts) == 2 and all(parts):
            return parts[1], parts[0]
    return fallback_namespace or UNKNOWN, fqdn or UNKNOWN


def _known(value: str) -> bool:
    return bool(value) and value != UNKNOWN


def workload_node(side: Workload, graph: GraphType) -> NodeKey:
    return _workload_node(side.namespace, side.workload, side.app, side.version, graph)


# A mesh has few distinct nodes and many samples per node: interning makes mapping a sample a cache hit
# and makes later dict lookups compare keys by identity.
@functools.lru_cache(maxsize=131_072)
def _workload_node(namespace: str, workload: str, app: str, version: str, graph: GraphType) -> NodeKey:
    side = Workload(namespace, workload, app, version)
    namespace = side.namespace or UNKNOWN
    app = side.app if _known(side.app) else side.workload
    version = side.version or UNKNOWN
    if graph is GraphType.WORKLOAD:
        return NodeKey(NodeKind.WORKLOAD, namespace, app=app, version=version, workload=side.workload)
    if graph is GraphType.SERVICE:
        return NodeKey(NodeKind.SERVICE, namespace, service=app)
    if graph is GraphType.APP:
        return NodeKey(NodeKind.APP, namespace, app=app, workload=side.workload)
    return NodeKey(NodeKind.APP, namespace, app=app, version=version, workload=side.workload)


def service_node(edge: EdgeLabels) -> NodeKey:
    namespace, name = split_service(edge.destination_service, edge.destination.namespace)
    return NodeKey(NodeKind.SERVICE, namespace, service=name)


def source_node(edge: EdgeLabels, graph: GraphType) -> NodeKey:
    if not _known(edge.source.workload) and not _known(edge.source.app):
        return NodeKey(NodeKind.UNKNOWN, UNKNOWN)
    return workload_node(edge.source, graph)


def destination_node(edge: EdgeLabels, graph: GraphType, *, reached: bool = False) -> NodeKey:
    """`reached`: the sample is destination-reported, so it reached a workload even if its labels omit it."""
    if graph is GraphType.SERVICE or not (reached or _known(edge.destination.workload)):
        return service_node(edge)
    return workload_node(edge.destination, graph)
