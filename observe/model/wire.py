"""The JSON wire shape of a topology (DESIGN §6). TypedDicts only here; everything else is dataclasses.

Numbers are rounded for the wire (rates to 4 decimals, ratios to 5, latencies to 3) so payloads stay small
and stable between refreshes. Absent values are null, never NaN or Infinity (which are not JSON).

topology_to_wire gives the answer as dicts, each edge made from its EdgeStats (a snapshot keeps them);
topology_to_json its JSON (the API's answer), the very bytes orjson writes for those dicts: for a plan's
build, its numbers are read from the per-edge columns (model.edge_columns) and spliced between kept pieces of
each edge's and node's JSON.
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
import orjson

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


Keys = tuple[tuple[bytes, int], ...]  # one edge's response codes or flags, written, and their groups


# What is kept per plan's graph (model.topology: frozen, and shared by the refreshes of a view whose series stay
# the same) while that graph lives: its edges and nodes in wire order, each node's fixed fields, and for the
# answer's JSON each edge's and node's templates (below). A graph that is not a plan's keeps nothing.
@dataclass(slots=True)
class _Fixed:
    order: list[tuple[str, str]]  # the edges, sorted
    node_order: list[str]
    nodes: dict[str, WireNode] = field(default_factory=dict)
    columns: _ColumnOrder | None = None
    templates: tuple[object, list[tuple[bytes, ...]]] = (None, [])  # and the percentiles they hold
    node_templates: list[tuple[bytes, ...]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _ColumnOrder:
    """A plan's edges as the JSON reads its columns: each edge's codes and flags sorted, their keys written
    (with the colon) beside their group, and each edge's nodes' indices."""

    index: dict[tuple[str, str], int]
    responses: list[Keys]
    flags: list[Keys]
    sources: Ints
    targets: Ints


def _column_order(fixed: _Fixed, layout: ColumnLayout) -> _ColumnOrder:
    def written(keys: tuple[tuple[str, int], ...]) -> Keys:
        return tuple((orjson.dumps(name) + b":", group) for name, group in sorted(keys))

    return _ColumnOrder({key: i for i, key in enumerate(fixed.order)}, list(map(written, layout.responses)),
                        list(map(written, layout.flags)), *_endpoints(fixed))  # fmt: skip


def _endpoints(fixed: _Fixed) -> tuple[Ints, Ints]:
    """Each edge's source's and target's index in the node order."""
    node_index = {node: i for i, node in enumerate(fixed.node_order)}
    return (np.array([node_index[source] for source, _ in fixed.order], dtype=np.intp),
            np.array([node_index[target] for _, target in fixed.order], dtype=np.intp))  # fmt: skip


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
    """A node's fixed fields (a copy). Its readiness reads the traces only to find nodes seen in traces alone,
    which a plan's graph does not have, so they are kept whatever the traces."""
    node = fixed.nodes.get(node_id)
    if node is None:
        node = fixed.nodes[node_id] = _fixed_node(topology, node_id)
    return node.copy()


def _node_numbers(fixed: _Fixed, rps: Floats, ranks: Ints) -> tuple[list[int], list[Any], list[Any]]:
    """Each node's health rank (the worst of its inbound edges', as Topology.node_health), rps in and out. The
    sums add each node's edges in the edges' order, as a loop over them would."""
    count = len(fixed.node_order)
    sources, targets = (fixed.columns.sources, fixed.columns.targets) if fixed.columns else _endpoints(fixed)
    worst = np.zeros(count, dtype=np.intp)
    np.maximum.at(worst, targets, ranks)
    return worst.tolist(), _rounded(sums_by(targets, rps, count), 4), _rounded(sums_by(sources, rps, count), 4)


def _header(topology: Topology, nodes: object, edges: object) -> WireTopology:
    return WireTopology(
        as_of=topology.as_of,
        window_s=topology.window_s,
        graph=topology.graph_type.value,
        stale=topology.stale,
        missing=[WireMissing(source=m.source, error=m.error) for m in topology.missing],
        nodes=nodes,  # type: ignore[typeddict-item]  # the answer's JSON splices them in as a Fragment
        edges=edges,  # type: ignore[typeddict-item]
    )


def topology_to_wire(topology: Topology) -> WireTopology:
    """The answer as dicts, each edge from its EdgeStats (a snapshot's: the API's answer is topology_to_json).
    One pass over the edges gives each node's rates and health too: asking the graph per node for its edges
    again (as Topology.node_health does) cost about a quarter of the answer at 10,000 edges."""
    fixed = _fixed(topology)
    all_stats, classify = topology.stats, topology.thresholds.classify
    edges, rps, ranks = [], [], []
    for key in fixed.order:  # (source, target) is unique
        stats = all_stats[key]
        shares = stats.shares()
        health = classify(stats.rps, shares.success_rate)
        edges.append(edge_to_wire(topology, *key, stats, shares, health))
        rps.append(stats.rps)
        ranks.append(health.rank)
    nodes = []
    numbers = _node_numbers(fixed, np.array(rps, dtype=np.float64), np.array(ranks, dtype=np.intp))
    for node_id, rank, into, out in zip(fixed.node_order, *numbers, strict=True):
        node = _node(topology, fixed, node_id)
        node["health"], node["rps_in"], node["rps_out"] = _HEALTH_VALUES[rank], into, out
        nodes.append(node)
    return _header(topology, nodes, edges)


# The answer's JSON without a dict per edge, for a plan's build: its numbers come from the columns
# (model.edge_columns), rounded and written in bulk (one orjson call per column), and are spliced between the
# pieces of each edge's and node's template: its fixed fields written, cut before each field that changes
# between refreshes. A new percentile query rewrites only the piece holding them. orjson writes without spaces
# and a value the same wherever it stands, so the bytes are orjson.dumps(topology_to_wire(topology))'s, which
# the tests check.
_EDGE_VARIABLES = (*_NUMBERS, "responses", "flags", "health")
_NODE_VARIABLES = ("health", "rps_in", "rps_out")
_HEALTH_JSON = tuple(orjson.dumps(value) for value in _HEALTH_VALUES)


def _template(wire: Mapping[str, Any], variables: tuple[str, ...]) -> tuple[bytes, ...]:
    """`wire`'s JSON cut before the value of each of `variables` (in that order) and after it."""
    pieces, current, seen = [], b"{", list[str]()
    for i, (key, value) in enumerate(wire.items()):
        current += (b"," if i else b"") + orjson.dumps(key) + b":"
        if key in variables:
            pieces.append(current)
            current, seen = b"", [*seen, key]
        else:
            current += orjson.dumps(value)
    if tuple(seen) != variables:
        raise ValueError(f"the wire's fields that change are {seen}, not {list(variables)}")
    return (*pieces, current + b"}")


def _percentiles_piece(percentiles: Mapping[float, Percentile], responses: Keys, flags: Keys) -> bytes:
    """The piece between an edge's no_response_rate and its responses' value (see _edge_template)."""
    fields: dict[str, Any] = {}
    _percentile_fields(fields, percentiles)
    opened = b"{" + responses[0][0] if _simple(responses, flags) else b""
    return b"," + orjson.dumps(fields)[1:-1] + b',"responses":' + opened


def _simple(responses: Keys, flags: Keys) -> bool:
    return len(responses) == 1 and not flags


def _edge_template(base: dict[str, Any], responses: Keys, flags: Keys) -> tuple[bytes, ...]:
    """Nine pieces around the five shares, responses, flags and health; most edges have one response code and
    no flags, so theirs are written in: eight pieces around the shares, that code's rps and the health. The
    sixth piece holds the percentiles (_percentiles_piece)."""
    p = _template(base, _EDGE_VARIABLES)
    if _simple(responses, flags):
        return (*p[:5], p[5] + b"{" + responses[0][0], b"}" + p[6] + b"{}" + p[7], p[8])
    return p


def _edge_templates(topology: Topology, fixed: _Fixed, columns: EdgeColumns,
                    order: _ColumnOrder) -> list[tuple[bytes, ...]]:  # fmt: skip
    made_with, templates = fixed.templates  # one read: threads may render this graph at once
    edges = zip(fixed.order, order.responses, order.flags, columns.percentiles, strict=True)
    if not templates:  # a view's first build
        stats = topology.stats
        templates = [_edge_template(_fixed_fields(topology, *key, stats[key], None), responses, flags)
                     for key, responses, flags, _ in edges]  # fmt: skip
    elif made_with is not columns.percentiles:  # a new percentile query
        templates = [(*p[:5], _percentiles_piece(percentiles or {}, responses, flags), *p[6:])
                     for p, (_, responses, flags, percentiles) in zip(templates, edges, strict=True)]  # fmt: skip
    fixed.templates = (columns.percentiles, templates)
    return templates


def _node_templates(topology: Topology, fixed: _Fixed) -> list[tuple[bytes, ...]]:
    if not fixed.node_templates:
        fixed.node_templates = [_template(_node(topology, fixed, node), _NODE_VARIABLES) for node in fixed.node_order]
    return fixed.node_templates


def _json_items(values: list[Any]) -> list[bytes]:
    """Each value as orjson writes it: one call for the list, cut at its commas (a number or null has none)."""
    return orjson.dumps(values)[1:-1].split(b",") if values else []


def _object(keys: Keys, values: list[bytes]) -> bytes:
    return b"{" + b",".join([key + values[i] for key, i in keys]) + b"}"


def topology_to_json(topology: Topology) -> bytes:
    """orjson.dumps(topology_to_wire(topology)): for a plan's build, written from its templates (above); an edge
    with traces or mirrored copies (more than the columns hold) from its EdgeStats."""
    fixed = _fixed(topology)
    columns, order = topology.columns, fixed.columns
    if columns is None or order is None:
        return orjson.dumps(topology_to_wire(topology))
    shares = columns.shares(topology.thresholds)
    written = [_json_items(_rounded(values, digits)) for values, digits in (
        (columns.rps, 4), (shares.success_rate, 5), (shares.error_rate_5xx, 5), (shares.rate_4xx, 5),
        (shares.no_response_rate, 5), (columns.group_sums, 4), (columns.flag_sums, 4))]  # fmt: skip
    sums, flag_sums = written[5], written[6]
    edges = [
        b"".join((p[0], rps, p[1], success, p[2], errors, p[3], client, p[4], none, p[5], sums[codes[0][1]],
                  p[6], _HEALTH_JSON[rank], p[7])) if len(p) == 8 else
        b"".join((p[0], rps, p[1], success, p[2], errors, p[3], client, p[4], none, p[5], _object(codes, sums),
                  p[6], _object(flags, flag_sums), p[7], _HEALTH_JSON[rank], p[8]))
        for p, codes, flags, rps, success, errors, client, none, rank in zip(
            _edge_templates(topology, fixed, columns, order), order.responses, order.flags, *written[:5],
            shares.health.tolist(), strict=True,
        )
    ]  # fmt: skip
    for i in {*columns.layout.apart, *(order.index[key] for key in topology.traces)}:
        key = fixed.order[i]
        stats = topology.stats[key]
        edge_health = _HEALTH_BY_RANK[shares.health[i]]
        edges[i] = orjson.dumps(edge_to_wire(topology, *key, stats, stats.shares(), edge_health))
    health, rps_in, rps_out = _node_numbers(fixed, columns.rps, shares.health)
    nodes = [
        b"".join((p[0], _HEALTH_JSON[rank], p[1], into, p[2], out, p[3]))
        for p, rank, into, out in zip(
            _node_templates(topology, fixed), health, _json_items(rps_in), _json_items(rps_out), strict=True
        )
    ]
    joined = orjson.Fragment(b"[" + b",".join(nodes) + b"]"), orjson.Fragment(b"[" + b",".join(edges) + b"]")
    return orjson.dumps(_header(topology, *joined))
