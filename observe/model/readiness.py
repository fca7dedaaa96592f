"""Mesh readiness of a node: what keeps it from being fully observed, and what to change (issue 11).

Rules, per node of a built (and trace-merged) topology, each a (problem, fix) pair as KubeSphere's and Istio's
label requirements state them:
- seen only in traces: every edge of the node lacks Istio metrics, so the workload has no sidecar;
- the `unknown` node: requests from callers outside the mesh (no sidecar reported their source);
- version `unknown`: the workload has no `version` label, so versions cannot be told apart (versioned-app and
  workload graphs only: the others do not carry versions).
A missing `app` label is not flagged: Istio then names the canonical service after the workload, which cannot
be told apart reliably from an `app` label that happens to equal the workload name.
"""

from __future__ import annotations

from itertools import chain
from typing import NamedTuple

from observe.model.ids import UNKNOWN, GraphType, NodeKind
from observe.model.topology import Topology


class Readiness(NamedTuple):
    problem: str
    fix: str


TRACES_ONLY = Readiness(
    "seen only in traces: no Istio sidecar metrics for this workload",
    "inject the sidecar: label the namespace istio-injection=enabled (or istio.io/rev=<revision>) and restart "
    "the workload",
)
OUTSIDE_MESH = Readiness(
    "traffic from outside the mesh: its callers have no sidecar, so they are not identified",
    "route the traffic through an ingress gateway, or add a sidecar to the caller",
)
NO_VERSION = Readiness(
    "version unknown: the workload has no `version` label",
    "add the `app` and `version` labels to the pod template (spec.template.metadata.labels)",
)
_VERSIONED = (GraphType.VERSIONED_APP, GraphType.WORKLOAD)


def _traces_only(topology: Topology, node_id: str) -> bool:
    if not topology.traces:  # trace-only edges come with trace statistics
        return False
    g = topology.graph
    edges = chain(g.in_edges(node_id), g.out_edges(node_id))
    return all(not topology.edge_stats(s, t).reporters for s, t in edges)  # stops at the first metric edge


def node_readiness(topology: Topology, node_id: str) -> list[Readiness]:
    """The node's problems, most fundamental first; empty when the node is fine."""
    key = topology.node_key(node_id)
    if key.kind is NodeKind.UNKNOWN:
        return [OUTSIDE_MESH]
    if _traces_only(topology, node_id):
        return [TRACES_ONLY]
    if key.kind is not NodeKind.SERVICE and topology.graph_type in _VERSIONED and key.version == UNKNOWN:
        return [NO_VERSION]
    return []
