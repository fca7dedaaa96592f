"""The JSON wire shape of a topology (DESIGN §6). TypedDicts only here; everything else is dataclasses.

Numbers are rounded for the wire (rates to 4 decimals, ratios to 5, latencies to 3) so payloads stay small
and stable between refreshes. Absent values are null, never NaN or Infinity (which are not JSON).
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import networkx as nx
import numpy as np

from observe.model.edge_columns import ColumnLayout, EdgeColumns, Floats, Ints, sums_by
from observe.model.edge_stats import EdgeStats, Health, Percentile, Shares
from observe.model.merge import disagreements
from observe.model.readiness import node_readiness
from observe.model.samples import Reporter
from observe.model.topology import Topology
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


_SCALE = {3: 1e3, 4: 1e4, 5: 1e5}


def _round(value: float | None, digits: int) -> float | None:
    """round(value, digits) for 3, 4 or 5 digits at less than half its cost (a dozen numbers per edge): k / 10^d
    is the double nearest the decimal, as round() returns. The scaling itself rounds, so a value within an ulp
    of a halfway point may come out one unit of the last digit apart; on 10^6 random values none did."""
    if value is None or not math.isfinite(value):
        return None
    scale = _SCALE[digits]
    return round(value * scale) / scale


_PERCENTILE_KEYS = tuple((q, f"{name}_ms", f"{name}_bounds_ms") for q, name in QUANTILE_FIELDS.items())


def _percentile_fields(edge: dict[str, Any], percentiles: Mapping[float, Percentile]) -> None:
    for q, value_key, bounds_key in _PERCENTILE_KEYS:
        p = percentiles.get(q)
        if p is None:
            edge[value_key] = edge[bounds_key] = None
        else:
            edge[value_key] = _round(p.value_ms, 3)
            edge[bounds_key] = [p.lower_ms, None if p.upper_ms == math.inf else p.upper_ms]  # bucket bounds
    p99 = percentiles.get(0.99)
    edge["p99_overflow"] = p99 is not None and p99.upper_ms == math.inf


@functools.lru_cache(maxsize=8)  # a handful of reporter sets; Enum.value is a Python property per read
def _reporter_names(reporters: frozenset[Reporter]) -> tuple[str, ...]:
    return tuple(sorted(r.value for r in reporters))


_NUMBERS = ("rps", "success_rate", "error_rate_5xx", "rate_4xx", "no_response_rate")


def _fixed_fields(
    topology: Topology, source: str, target: str, stats: EdgeStats, trace: EdgeTraceStats | None
) -> dict[str, Any]:
    """Every field but the rates and health, in wire order (their keys hold their places): for an edge without
    traces, what stays the same from one refresh to the next until its percentiles are queried again."""
    edge: dict[str, Any] = {"source": source, "target": target, "protocol": stats.protocol}
    edge.update(dict.fromkeys(_NUMBERS))
    _percentile_fields(edge, stats.percentiles)
    edge["responses"] = edge["flags"] = None
    edge["reporters"] = list(_reporter_names(stats.reporters))
    edge["security"] = stats.security
    edge["mirror"] = None
    in_metrics = bool(stats.reporters)
    edge["trace"] = _trace_to_wire(trace, topology.trace_window_s) if trace else None
    edge["seen_by"] = [name for name, seen in (("metrics", in_metrics), ("traces", trace is not None)) if seen]
    edge["disagreements"] = [{"kind": d.kind, "message": d.message} for d in disagreements(stats, trace)]
    edge["health"] = "unknown"
    return edge


def _set_rates(edge: dict[str, Any], stats: EdgeStats, shares: Shares, health: Health) -> dict[str, Any]:
    responses, flags = stats.responses, stats.flags  # most edges: one code, no flags; nothing to sort
    codes = sorted(responses.items()) if len(responses) > 1 else responses.items()
    edge["responses"] = {code: _round(v, 4) for code, v in codes}
    edge["flags"] = {flag: _round(v, 4) for flag, v in sorted(flags.items())} if flags else {}
    mirror = stats.mirror
    edge["mirror"] = {"rps": _round(mirror.rps, 4), "success_rate": _round(mirror.success_rate, 5)} if mirror else None
    if stats.reporters:  # never show a zero rate for an edge metrics did not see: left null, health unknown
        edge["rps"] = _round(stats.rps, 4)
        edge["success_rate"] = _round(shares.success_rate, 5)
        edge["error_rate_5xx"] = _round(shares.error_rate_5xx, 5)
        edge["rate_4xx"] = _round(shares.rate_4xx, 5)
        edge["no_response_rate"] = _round(shares.no_response_rate, 5)
        edge["health"] = health.value
    return edge


def edge_to_wire(
    topology: Topology, source: str, target: str, stats: EdgeStats, shares: Shares, health: Health
) -> dict[str, Any]:
    fixed = _fixed_fields(topology, source, target, stats, topology.traces.get((source, target)))
    return _set_rates(fixed, stats, shares, health)


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


def _fixed_node(topology: Topology, node_id: str) -> WireNode:
    """A node's wire entry but its health and rates (placeholders, in wire order)."""
    key = topology.node_key(node_id)
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
        health=Health.IDLE.value,
        rps_in=0.0,
        rps_out=0.0,
        readiness=[WireReadiness(problem=r.problem, fix=r.fix) for r in node_readiness(topology, node_id)],
    )


# The fixed fields of each edge and node of a plan's graph (model.topology: frozen, and shared by the refreshes
# of a view whose series stay the same), kept while that graph lives: an edge's are made once, and copied with
# new percentile fields after each percentile query. With traces, an edge that has some and every node
# (readiness reads the traces) are made whole each time; so is every edge of a graph that is not a plan's.
@dataclass(slots=True)
class _Fixed:
    order: list[tuple[str, str]]  # the edges, sorted
    node_order: list[str]
    nodes: dict[str, WireNode] = field(default_factory=dict)
    columns: _ColumnOrder | None = None
    bases: tuple[object, list[dict[str, Any]]] = (None, [])  # each edge's, in order, and the percentiles they hold


@dataclass(frozen=True, slots=True)
class _ColumnOrder:
    """A plan's edges as the wire reads its columns: codes and flags sorted, each edge's nodes' indices."""

    index: dict[tuple[str, str], int]
    responses: list[tuple[tuple[str, int], ...]]
    flags: list[tuple[tuple[str, int], ...]]
    sources: Ints
    targets: Ints


def _column_order(fixed: _Fixed, layout: ColumnLayout) -> _ColumnOrder:
    node_index = {node: i for i, node in enumerate(fixed.node_order)}
    return _ColumnOrder(
        {key: i for i, key in enumerate(fixed.order)},
        [tuple(sorted(codes)) if len(codes) > 1 else codes for codes in layout.responses],
        [tuple(sorted(flags)) if len(flags) > 1 else flags for flags in layout.flags],
        np.array([node_index[source] for source, _ in fixed.order], dtype=np.intp),
        np.array([node_index[target] for _, target in fixed.order], dtype=np.intp),
    )


_FIXED: weakref.WeakKeyDictionary[nx.DiGraph, _Fixed] = weakref.WeakKeyDictionary()


def _fixed(topology: Topology) -> _Fixed:
    graph = topology.graph
    if not nx.is_frozen(graph):  # a graph with trace-only edges added: this answer's own
        return _Fixed(sorted(topology.stats), sorted(graph))
    fixed = _FIXED.get(graph)
    if fixed is None:
        fixed = _FIXED[graph] = _Fixed(sorted(topology.stats), sorted(graph))
    if topology.columns is not None and fixed.columns is None:
        fixed.columns = _column_order(fixed, topology.columns.layout)
    return fixed


def _node(topology: Topology, fixed: _Fixed, node_id: str) -> WireNode:
    if topology.traces:
        return _fixed_node(topology, node_id)
    node = fixed.nodes.get(node_id)
    if node is None:
        node = fixed.nodes[node_id] = _fixed_node(topology, node_id)
    return node.copy()


def _rounded(values: Floats, digits: int) -> list[Any]:
    """_round of each value: np.rint rounds half to even, as round() does, and NaN and ±Inf become None."""
    scale = _SCALE[digits]
    with np.errstate(invalid="ignore", over="ignore"):
        out: list[Any] = (np.rint(values * scale) / scale).tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


_HEALTH_BY_RANK = tuple(sorted(Health, key=lambda h: h.rank))
_HEALTH_VALUES = tuple(h.value for h in _HEALTH_BY_RANK)


def _edges_from_stats(topology: Topology, fixed: _Fixed) -> tuple[list[dict[str, Any]], list[float], list[int]]:
    """Each edge from its EdgeStats, whole; with each edge's rps and health rank (for its nodes)."""
    all_stats, classify = topology.stats, topology.thresholds.classify
    edges, rps, ranks = [], [], []
    for key in fixed.order:  # (source, target) is unique
        stats = all_stats[key]
        shares = stats.shares()
        health = classify(stats.rps, shares.success_rate)
        edges.append(edge_to_wire(topology, *key, stats, shares, health))
        rps.append(stats.rps)
        ranks.append(health.rank)
    return edges, rps, ranks


def _edges_from_columns(
    topology: Topology, fixed: _Fixed, columns: EdgeColumns, order: _ColumnOrder
) -> tuple[list[dict[str, Any]], Ints]:
    """Every edge's numbers rounded in bulk, then set in a copy of its fixed fields; an edge with traces or
    mirrored copies (more than the columns hold) from its EdgeStats. With each edge's health rank."""
    all_stats = topology.stats
    made_with, bases = fixed.bases  # one read: threads may render this graph at once
    if not bases:  # a view's first build
        bases = [_fixed_fields(topology, *key, all_stats[key], None) for key in fixed.order]
        fixed.bases = (columns.percentiles, bases)
    elif made_with is not columns.percentiles:  # a new percentile query: only those fields change
        bases = [base.copy() for base in bases]
        for base, percentiles in zip(bases, columns.percentiles, strict=True):
            _percentile_fields(base, percentiles or {})
        fixed.bases = (columns.percentiles, bases)
    shares = columns.shares(topology.thresholds)
    sums, flag_sums = _rounded(columns.group_sums, 4), _rounded(columns.flag_sums, 4)
    edges = []
    for base, responses, flags, rps, success, errors, client, none, rank in zip(
        bases, order.responses, order.flags, _rounded(columns.rps, 4), _rounded(shares.success_rate, 5),
        _rounded(shares.error_rate_5xx, 5), _rounded(shares.rate_4xx, 5), _rounded(shares.no_response_rate, 5),
        shares.health.tolist(), strict=True,
    ):  # fmt: skip
        edge = base.copy()
        edge["rps"], edge["success_rate"], edge["error_rate_5xx"] = rps, success, errors
        edge["rate_4xx"], edge["no_response_rate"] = client, none
        edge["responses"] = {code: sums[group] for code, group in responses}
        edge["flags"] = {flag: flag_sums[group] for flag, group in flags}
        edge["health"] = _HEALTH_VALUES[rank]
        edges.append(edge)
    for i in {*columns.layout.apart, *(order.index[key] for key in topology.traces)}:
        key = fixed.order[i]
        stats = all_stats[key]
        edges[i] = edge_to_wire(topology, *key, stats, stats.shares(), _HEALTH_BY_RANK[shares.health[i]])
    return edges, shares.health


def topology_to_wire(topology: Topology) -> WireTopology:
    """One pass over the edges, which also gives each node's rates and health: asking the graph per node for
    its edges again (as Topology.node_health does) cost about a quarter of the answer at 10,000 edges. An edge
    or node is a copy of its fixed fields with its rates and health set. A plan's build (Topology.columns)
    has its edges' numbers in arrays, rounded and summed per node in bulk."""
    fixed = _fixed(topology)
    nodes_count = len(fixed.node_order)
    if topology.columns is not None and fixed.columns is not None:
        edges, ranks = _edges_from_columns(topology, fixed, topology.columns, fixed.columns)
        rps, sources, targets = topology.columns.rps, fixed.columns.sources, fixed.columns.targets
    else:
        edges, rps_list, rank_list = _edges_from_stats(topology, fixed)
        node_index = {node: i for i, node in enumerate(fixed.node_order)}
        rps, ranks = np.array(rps_list, dtype=np.float64), np.array(rank_list, dtype=np.intp)
        sources = np.array([node_index[source] for source, _ in fixed.order], dtype=np.intp)
        targets = np.array([node_index[target] for _, target in fixed.order], dtype=np.intp)
    # the sums add each node's edges in the edges' order, as a loop over them would
    rps_out = _rounded(sums_by(sources, rps, nodes_count), 4)
    rps_in = _rounded(sums_by(targets, rps, nodes_count), 4)
    worst = np.zeros(nodes_count, dtype=np.intp)  # of a node's inbound edges (Topology.node_health)
    np.maximum.at(worst, targets, ranks)
    nodes = []
    for node_id, rank, into, out in zip(fixed.node_order, worst.tolist(), rps_in, rps_out, strict=True):
        node = _node(topology, fixed, node_id)
        node["health"], node["rps_in"], node["rps_out"] = _HEALTH_VALUES[rank], into, out
        nodes.append(node)
    return WireTopology(
        as_of=topology.as_of,
        window_s=topology.window_s,
        graph=topology.graph_type.value,
        stale=topology.stale,
        missing=[WireMissing(source=m.source, error=m.error) for m in topology.missing],
        nodes=nodes,
        edges=edges,
    )
