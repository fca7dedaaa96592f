"""Diff of two windows of the mesh: nodes and edges added or removed, per-edge changes, ranked by impact.

Inputs are two topologies of the same graph type and window, A (before) and B (after). Per edge present in
either:
  ok   = rps × success_rate          successful requests per second
  fail = rps − ok                    failed requests per second (5xx and no response)
  lost_rps    = max(0, ok_A − ok_B, fail_B − fail_A)
      requests per second that went wrong in B compared with A: lost successes (an edge that stopped or
      dropped traffic) or new failures (an error spike at the same traffic), whichever is larger, so an
      error spike at constant traffic is counted once, not twice;
  slowdown_rps = max(0, p99_B − p99_A) / LATENCY_COST_MS × rps_B
      added P99 latency × traffic, in the same unit: a request made LATENCY_COST_MS (1 s) slower at the tail
      counts as one lost request. Zero when either P99 is unknown.
  impact = (lost_rps + slowdown_rps) / mesh_rps,   mesh_rps = max(total rps of A, total rps of B)
      normalised by the mesh's traffic so the figure reads as "the share of the mesh's requests that got worse"
      and diffs of differently sized meshes or windows compare.
Edges are ranked by impact (descending), then by lost_rps, then by |Δrps|, then by id, so the order is
total and stable. A side whose rates could not be read is `incomplete`: edges missing from it are `unknown`
rather than added or removed, and score no impact (never a false alarm from a failed query).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observe.model.edge_stats import EdgeStats
from observe.model.topology import Topology

LATENCY_COST_MS = 1000.0
P99 = 0.99


@dataclass(frozen=True, slots=True)
class EdgeSide:
    rps: float
    success_rate: float | None
    p99_ms: float | None
    health: str

    @property
    def ok_rps(self) -> float:
        return self.rps * (1.0 if self.success_rate is None else self.success_rate)

    @property
    def failed_rps(self) -> float:
        return self.rps - self.ok_rps


@dataclass(frozen=True, slots=True)
class EdgeChange:
    source: str
    target: str
    status: str  # added | removed | both | unknown (absent from a side that could not be read)
    a: EdgeSide | None
    b: EdgeSide | None
    lost_rps: float
    slowdown_rps: float
    impact: float


@dataclass(frozen=True, slots=True)
class TopologyDiff:
    added_nodes: tuple[str, ...]
    removed_nodes: tuple[str, ...]
    edges: tuple[EdgeChange, ...]  # ranked, highest impact first
    mesh_rps: float


def _side(topology: Topology, source: str, target: str) -> EdgeSide:
    stats: EdgeStats = topology.edge_stats(source, target)
    p99 = stats.percentiles.get(P99)
    return EdgeSide(stats.rps, stats.success_rate, p99.value_ms if p99 else None,
                    stats.health(topology.thresholds).value)  # fmt: skip


def _scores(a: EdgeSide | None, b: EdgeSide | None) -> tuple[float, float]:
    """(lost_rps, slowdown_rps) of one edge; an absent side counts as no traffic."""
    ok_a, fail_a = (a.ok_rps, a.failed_rps) if a else (0.0, 0.0)
    ok_b, fail_b = (b.ok_rps, b.failed_rps) if b else (0.0, 0.0)
    lost = max(0.0, ok_a - ok_b, fail_b - fail_a)
    slowdown = 0.0
    if a and b and a.p99_ms is not None and b.p99_ms is not None:
        slowdown = max(0.0, b.p99_ms - a.p99_ms) / LATENCY_COST_MS * b.rps
    return lost, slowdown


def _status(in_a: bool, in_b: bool, a_complete: bool, b_complete: bool) -> str:
    if in_a and in_b:
        return "both"
    if in_b:
        return "added" if a_complete else "unknown"
    return "removed" if b_complete else "unknown"


def diff_topologies(a: Topology, b: Topology, *, a_complete: bool = True, b_complete: bool = True) -> TopologyDiff:
    a_edges, b_edges = set(a.graph.edges), set(b.graph.edges)
    mesh_rps = max(sum(a.edge_stats(s, t).rps for s, t in a_edges), sum(b.edge_stats(s, t).rps for s, t in b_edges))
    changes = []
    for source, target in a_edges | b_edges:
        side_a = _side(a, source, target) if (source, target) in a_edges else None
        side_b = _side(b, source, target) if (source, target) in b_edges else None
        status = _status(side_a is not None, side_b is not None, a_complete, b_complete)
        lost, slowdown = _scores(side_a, side_b) if status != "unknown" else (0.0, 0.0)
        impact = (lost + slowdown) / mesh_rps if mesh_rps > 0 else 0.0
        changes.append(EdgeChange(source, target, status, side_a, side_b, lost, slowdown, impact))
    changes.sort(key=lambda c: (-c.impact, -c.lost_rps, -abs(_rps(c.b) - _rps(c.a)), c.source, c.target))
    a_nodes, b_nodes = set(a.graph.nodes), set(b.graph.nodes)
    return TopologyDiff(
        added_nodes=tuple(sorted(b_nodes - a_nodes)) if a_complete else (),
        removed_nodes=tuple(sorted(a_nodes - b_nodes)) if b_complete else (),
        edges=tuple(changes),
        mesh_rps=mesh_rps,
    )


def _rps(side: EdgeSide | None) -> float:
    return side.rps if side else 0.0


def _delta(a: float | None, b: float | None, digits: int) -> float | None:
    return None if a is None or b is None else round(b - a, digits)


def _side_to_wire(side: EdgeSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    success, p99 = side.success_rate, side.p99_ms
    return {"rps": round(side.rps, 4), "success_rate": None if success is None else round(success, 5),
            "p99_ms": None if p99 is None else round(p99, 3), "health": side.health}  # fmt: skip


def edge_change_to_wire(change: EdgeChange) -> dict[str, Any]:
    a, b = change.a, change.b
    return {
        "source": change.source,
        "target": change.target,
        "status": change.status,
        "impact": round(change.impact, 6),
        "lost_rps": round(change.lost_rps, 4),
        "slowdown_rps": round(change.slowdown_rps, 4),
        "a": _side_to_wire(a),
        "b": _side_to_wire(b),
        "delta": {
            "rps": round(_rps(b) - _rps(a), 4),
            "success_rate": _delta(a.success_rate if a else None, b.success_rate if b else None, 5),
            "p99_ms": _delta(a.p99_ms if a else None, b.p99_ms if b else None, 3),
        },
    }


def diff_to_wire(diff: TopologyDiff) -> dict[str, Any]:
    return {
        "nodes": {"added": list(diff.added_nodes), "removed": list(diff.removed_nodes)},
        "edges": [edge_change_to_wire(c) for c in diff.edges],
        "mesh_rps": round(diff.mesh_rps, 4),
        "ranking": "impact = (lost_rps + slowdown_rps) / mesh_rps; lost_rps = max(0, Δ lost successes, Δ failures); "
        f"slowdown_rps = max(0, ΔP99) / {LATENCY_COST_MS:g} ms × rps_b",
    }
