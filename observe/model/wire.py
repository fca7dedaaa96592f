"""The JSON wire shape of a topology (DESIGN §6). TypedDicts only here; everything else is dataclasses.

Numbers are rounded for the wire (rates to 4 decimals, ratios to 5, latencies to 3) so payloads stay small
and stable between refreshes. Absent values are null, never NaN or Infinity (which are not JSON).
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

from observe.model.edge_stats import EdgeStats, Percentile
from observe.model.merge import disagreements
from observe.model.readiness import node_readiness
from observe.model.topology import Topology, node_rates
from observe.model.trace_stats import EdgeTraceStats

QUANTILE_FIELDS = {0.5: "p50", 0.95: "p95", 0.99: "p99"}


class WireMissing(TypedDict):
    source: str
    error: str


class WireReadiness(TypedDict):
    problem: str
    fix: str


class WireNode(TypedDict):
    id: str
    kind: str
    namespace: str
    app: str
    version: str
    workload: str
    workloads: list[str]
    service: str
    health: str
    rps_in: float
    rps_out: float
    readiness: list[WireReadiness]


class WireTopology(TypedDict):
    as_of: float
    window_s: float
    graph: str
    stale: bool
    missing: list[WireMissing]
    nodes: list[WireNode]
    edges: list[dict[str, Any]]


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None and math.isfinite(value) else None


def _percentile_fields(stats: EdgeStats) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q, name in QUANTILE_FIELDS.items():
        p: Percentile | None = stats.percentiles.get(q)
        out[f"{name}_ms"] = _round(p.value_ms, 3) if p else None
        out[f"{name}_bounds_ms"] = [p.lower_ms, _round(p.upper_ms, 3)] if p else None
        if name == "p99":
            out["p99_overflow"] = bool(p and p.overflow)
    return out


def edge_to_wire(topology: Topology, source: str, target: str) -> dict[str, Any]:
    stats = topology.edge_stats(source, target)
    shares = stats.shares()
    edge: dict[str, Any] = {
        "source": source,
        "target": target,
        "protocol": stats.protocol,
        "rps": _round(stats.rps, 4),
        "success_rate": _round(shares.success_rate, 5),
        "error_rate_5xx": _round(shares.error_rate_5xx, 5),
        "rate_4xx": _round(shares.rate_4xx, 5),
        "no_response_rate": _round(shares.no_response_rate, 5),
    }
    edge.update(_percentile_fields(stats))
    edge["responses"] = {code: _round(v, 4) for code, v in sorted(stats.responses.items())}
    edge["flags"] = {flag: _round(v, 4) for flag, v in sorted(stats.flags.items())}
    edge["reporters"] = sorted(r.value for r in stats.reporters)
    edge["security"] = stats.security
    mirror = stats.mirror
    edge["mirror"] = {"rps": _round(mirror.rps, 4), "success_rate": _round(mirror.success_rate, 5)} if mirror else None
    trace = topology.traces.get((source, target))
    in_metrics = bool(stats.reporters)
    edge["trace"] = _trace_to_wire(trace, topology.trace_window_s) if trace else None
    edge["seen_by"] = [name for name, seen in (("metrics", in_metrics), ("traces", trace is not None)) if seen]
    edge["disagreements"] = [{"kind": d.kind, "message": d.message} for d in disagreements(stats, trace)]
    edge["health"] = topology.thresholds.classify(stats.rps, shares.success_rate).value if in_metrics else "unknown"
    if not in_metrics:  # never show a zero rate for an edge metrics did not see
        for name in ("rps", "success_rate", "error_rate_5xx", "rate_4xx", "no_response_rate"):
            edge[name] = None
    return edge


def _trace_to_wire(trace: EdgeTraceStats, window_s: float) -> dict[str, Any]:
    return {
        "count": trace.count,
        "window_s": window_s,
        "rps": _round(trace.count / window_s, 4) if window_s > 0 else None,  # traced requests: a sample
        "errors": trace.errors,
        "error_rate": _round(trace.error_rate, 5),
        "p50_ms": _round(trace.p50_ms, 3),
        "p95_ms": _round(trace.p95_ms, 3),
        "p99_ms": _round(trace.p99_ms, 3),
        "exemplars": list(trace.exemplars),
    }


def node_to_wire(topology: Topology, node_id: str) -> WireNode:
    key = topology.node_key(node_id)
    rates = node_rates(topology, node_id)
    workloads = sorted(topology.graph.nodes[node_id]["workloads"])
    return WireNode(
        id=node_id,
        kind=key.kind.value,
        namespace=key.namespace,
        app=key.app,
        version=key.version,
        workload=key.workload if len(workloads) <= 1 else "",
        workloads=workloads,
        service=key.service,
        health=topology.node_health(node_id).value,
        rps_in=round(rates["rps_in"], 4),
        rps_out=round(rates["rps_out"], 4),
        readiness=[WireReadiness(problem=r.problem, fix=r.fix) for r in node_readiness(topology, node_id)],
    )


def topology_to_wire(topology: Topology) -> WireTopology:
    return WireTopology(
        as_of=topology.as_of,
        window_s=topology.window_s,
        graph=topology.graph_type.value,
        stale=topology.stale,
        missing=[WireMissing(source=m.source, error=m.error) for m in topology.missing],
        nodes=[node_to_wire(topology, n) for n in sorted(topology.graph.nodes)],
        edges=[edge_to_wire(topology, s, t) for s, t in sorted(topology.graph.edges)],
    )
