"""Topology build: samples (as parsed rows or typed) → a networkx DiGraph of nodes, and per-edge statistics.

Steps: (1) map each sample's two sides to nodes of the graph type (model.nodes); (2) fold every rate of an
edge into one EdgeStats (destination-reported rates plus source-reported rates of requests that reached no
workload; anything else source-reported is ignored here so no request counts twice); (3) attach the
percentiles of the edge; (4) keep the edges touching the selected namespaces (none selected = all);
(5) node health is the worst health of its inbound edges, and rps_in/rps_out are sums over its edges.
Mirrored copies (destination service `<host>-shadow`, reported by the destination only) are folded apart into
the edge's `mirror` stats: never in its user numbers; an edge carrying only copies has rps 0 and a mirror.

A build is a plan and a fold. The plan holds all that the samples' labels decide: steps 1 and 4, each edge's
shape (which samples, their codes and flags, its protocol and reporters) and the graph of its nodes. The fold
reads the values: a few numpy operations over the whole answer into per-edge columns (model.edge_columns),
from which an edge's EdgeStats is made when first read (the wire reads the columns). A live refresh of a
steady mesh returns the same series in the same order, so each view (graph type, namespaces) keeps its last
plan, and a build whose samples repeat the plan's heads (edge labels, reporter, code, flags) only folds:
topologies built from one plan share its graph, frozen. Edge statistics live beside the graph
(Topology.stats), so no build writes to it.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from observe.model.edge_columns import ColumnLayout, EdgeColumns
from observe.model.edge_stats import EdgeShape, EdgeStats, Health, HealthThresholds, Percentile, edge_shape
from observe.model.ids import UNKNOWN, GraphType, NodeKey
from observe.model.nodes import destination_node, source_node
from observe.model.quantiles import ENVOY_BUCKETS_MS
from observe.model.samples import (
    EdgeLabels,
    LatencyQuantile,
    QuantileHead,
    RateHead,
    Reporter,
    RequestRate,
    Rows,
    rates_from_rows,
)
from observe.model.trace_stats import EdgeTraceStats

EdgeKey = tuple[NodeKey, NodeKey]


@dataclass(frozen=True, slots=True)
class MissingSource:
    source: str
    error: str


@dataclass(frozen=True)
class Topology:
    graph_type: GraphType
    as_of: float
    window_s: float
    graph: nx.DiGraph  # nodes with their "key" and "workloads"; the edges' statistics are in `stats`
    stats: Mapping[tuple[str, str], EdgeStats] = field(default_factory=dict)  # by (source id, target id)
    missing: tuple[MissingSource, ...] = ()
    stale: bool = False
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)
    traces: Mapping[tuple[str, str], EdgeTraceStats] = field(default_factory=dict)  # set by model.merge
    trace_window_s: float = 0.0  # the time the trace statistics really cover (whole slots)
    # A plan's build: the edges' numbers in the order of sorted(stats), the same as the stats hold; None for
    # a graph that is not the plan's (model.merge adds edges seen in traces only)
    columns: EdgeColumns | None = None

    def edge_stats(self, source: str, target: str) -> EdgeStats:
        return self.stats[source, target]

    def node_key(self, node_id: str) -> NodeKey:
        key: NodeKey = self.graph.nodes[node_id]["key"]
        return key

    def node_health(self, node_id: str) -> Health:
        inbound = [self.edge_stats(s, node_id).health(self.thresholds) for s, _ in self.graph.in_edges(node_id)]
        return max(inbound, key=lambda h: h.rank, default=Health.IDLE)


def _edge_key(edge: EdgeLabels, graph: GraphType, reached: bool) -> EdgeKey:
    """The edge's nodes, memoised on the (interned) label object."""
    pair = edge.nodes.get((graph, reached))
    if pair is None:
        pair = edge.nodes[graph, reached] = source_node(edge, graph), destination_node(edge, graph, reached=reached)
    return pair


def group_rates(rates: Iterable[RequestRate], graph: GraphType) -> dict[EdgeKey, list[RequestRate]]:
    """The user requests of each edge (mirrored copies left out)."""
    return split_rates(rates, graph)[0]


def split_rates(
    rates: Iterable[RequestRate], graph: GraphType
) -> tuple[dict[EdgeKey, list[RequestRate]], dict[EdgeKey, list[RequestRate]]]:
    """(user requests, mirrored copies) of each edge."""
    # The parser interns EdgeLabels, so an edge's samples share one object: group by object first (an int
    # key), then map each object's nodes once. Every grouped object stays referenced, so ids are not reused.
    by_object: dict[int, list[RequestRate]] = {}
    destination = Reporter.DESTINATION
    for rate in rates:
        edge = rate.edge
        # destination reports count; source reports only for requests that never reached a workload
        if rate.reporter is destination or edge.destination.workload in ("", UNKNOWN):
            same = by_object.get(id(edge))
            if same is None:
                by_object[id(edge)] = [rate]
            else:
                same.append(rate)
    user: dict[EdgeKey, list[RequestRate]] = {}
    mirrored: dict[EdgeKey, list[RequestRate]] = {}
    for same in by_object.values():
        edge = same[0].edge
        grouped = mirrored if edge.mirror else user  # per label object, not per sample
        pair = _edge_key(edge, graph, False)
        if pair in grouped:  # several label sets fold into one edge of a coarser graph type
            grouped[pair] = grouped[pair] + same
        else:
            grouped[pair] = same
    return user, mirrored


def quantile_edge(sample: LatencyQuantile, graph: GraphType) -> EdgeKey:
    """Percentiles are destination-reported: their destination was reached whatever labels were grouped."""
    return _edge_key(sample.edge, graph, True)


def percentiles_by_edge(
    quantiles: Rows[QuantileHead] | Iterable[LatencyQuantile], graph: GraphType, bounds: tuple[float, ...]
) -> dict[EdgeKey, dict[float, Percentile]]:
    finite = tuple(sorted(bounds))
    last, new = finite[-1], tuple.__new__
    by_object: dict[int, tuple[EdgeLabels, dict[float, Percentile]]] = {}  # as in split_rates
    if isinstance(quantiles, Rows):
        pairs: Iterable[tuple[QuantileHead, float]] = zip(quantiles.heads, quantiles.values, strict=True)
    else:
        pairs = (((q.edge, q.quantile), q.value_ms) for q in quantiles)
    for (edge, quantile), value in pairs:
        if value == value:  # NaN: no requests on the edge in the window
            memo = by_object.get(id(edge))
            if memo is None:
                memo = by_object[id(edge)] = edge, {}
            # Percentile.estimate inlined (the per-sample hot path): the bucket is the first bound ≥ value
            if value < last:
                index = bisect_left(finite, value)
                memo[1][quantile] = new(Percentile, (value, finite[index - 1] if index else 0.0, finite[index]))
            else:
                memo[1][quantile] = new(Percentile, (value, last, math.inf))
    by_edge: dict[EdgeKey, dict[float, Percentile]] = {}
    for edge, percentiles in by_object.values():
        key = _edge_key(edge, graph, True)
        if key in by_edge:
            by_edge[key].update(percentiles)
        else:
            by_edge[key] = percentiles
    return by_edge


# Percentiles are queried on a slower cadence than rates (services.refresh), so successive builds of a view
# get the very same quantiles (Rows or tuple): grouped once, kept for the last few (held, so ids stay theirs).
_Grouped = dict[EdgeKey, dict[float, Percentile]]
_GROUPED: OrderedDict[tuple[int, GraphType, tuple[float, ...]], tuple[object, _Grouped]] = OrderedDict()
_MAX_GROUPED = 4  # a few live views; each grouping is ~10 objects per edge


def _percentiles(
    quantiles: Rows[QuantileHead] | Iterable[LatencyQuantile], graph: GraphType, bounds: tuple[float, ...]
) -> _Grouped:
    if not isinstance(quantiles, tuple):  # only an immutable sequence can be known by its id (Rows: a tuple)
        return percentiles_by_edge(quantiles, graph, bounds)
    key = (id(quantiles), graph, bounds)
    entry = _GROUPED.get(key)
    if entry is None or entry[0] is not quantiles:
        entry = _GROUPED[key] = quantiles, percentiles_by_edge(quantiles, graph, bounds)
        while len(_GROUPED) > _MAX_GROUPED:
            _GROUPED.popitem(last=False)
    return entry[1]


_HEAD = operator.itemgetter(slice(0, 4))  # a rate's (edge, reporter, code, flags): all but its value
_VALUE = operator.itemgetter(4)


class _Plan:
    """What a build takes from the samples' labels alone, for one (graph type, namespaces) view: the edges
    (sorted by their nodes' ids), each one's shape (user requests, mirrored copies) and its columns' layout,
    and the graph of their nodes, frozen: topologies built from the same plan share it."""

    __slots__ = ("graph", "heads", "ids", "index", "keys", "layout", "percentiles", "shapes")

    def __init__(self, rates: Sequence[RequestRate], heads: list[RateHead], graph_type: GraphType,
                 namespaces: frozenset[str]) -> None:  # fmt: skip
        self.heads = heads  # the next rates must repeat them, in order, for this plan to fold them
        position = {id(rate): i for i, rate in enumerate(rates)}
        user, mirrored = split_rates(rates, graph_type)
        nodes: dict[str, tuple[NodeKey, set[str]]] = {}
        edges: list[tuple[EdgeKey, list[RequestRate]]] = list(user.items())
        edges += [(p, []) for p in mirrored if p not in user]  # copies only
        edges.sort(key=lambda edge: (edge[0][0].id, edge[0][1].id))
        self.ids: list[tuple[str, str]] = []
        self.keys: list[EdgeKey] = []
        self.shapes: list[tuple[EdgeShape, EdgeShape | None]] = []
        for (src, dst), same in edges:
            if namespaces and src.namespace not in namespaces and dst.namespace not in namespaces:
                continue
            for key in (src, dst):
                workloads = (nodes.get(key.id) or nodes.setdefault(key.id, (key, set())))[1]
                if key.workload:
                    workloads.add(key.workload)
            copies = mirrored.get((src, dst)) if mirrored else None
            self.shapes.append((
                edge_shape(same, [position[id(rate)] for rate in same]),
                edge_shape(copies, [position[id(rate)] for rate in copies]) if copies else None,
            ))  # fmt: skip
            self.keys.append((src, dst))
            self.ids.append((src.id, dst.id))
        # networkx's bulk adds: one call each instead of an add_node/add_edge (and its checks) per edge
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from((id_, {"key": key, "workloads": frozenset(w)}) for id_, (key, w) in nodes.items())
        self.graph.add_edges_from(self.ids)
        nx.freeze(self.graph)
        self.index = {ids: i for i, ids in enumerate(self.ids)}
        apart = [i for i, (_, copies) in enumerate(self.shapes) if copies is not None]
        self.layout = ColumnLayout([user for user, _ in self.shapes], apart)
        self.percentiles: tuple[object, list[Mapping[float, Percentile] | None]] = (None, [])

    def aligned(self, grouped: _Grouped) -> list[Mapping[float, Percentile] | None]:
        """Each edge's percentiles, in the plan's order (looked up once per percentile grouping)."""
        seen, aligned = self.percentiles  # one read: threads may build from this plan at once
        if seen is not grouped:
            aligned = [grouped.get(key) for key in self.keys]
            self.percentiles = (grouped, aligned)
        return aligned

    def edge_stats(self, i: int, columns: EdgeColumns, values: Sequence[float]) -> EdgeStats:
        """The EdgeStats of edge `i` from its columns (`values`: the samples', for its mirrored copies)."""
        user, copies = self.shapes[i]
        sums, flag_sums = columns.group_sums, columns.flag_sums
        stats = EdgeStats(float(columns.rps[i]), {code: float(sums[group]) for code, group in self.layout.responses[i]},
                          {flag: float(flag_sums[group]) for flag, group in self.layout.flags[i]}, user.protocol,
                          user.reporters, columns.percentiles[i] or {}, user.security)  # fmt: skip
        if copies is None:
            return stats
        mirror = copies.fold(values)
        if not stats.reporters:  # copies only: the edge's protocol and security are theirs
            stats = stats._replace(protocol=mirror.protocol, security=mirror.security)
        return stats._replace(mirror=mirror, reporters=stats.reporters | mirror.reporters)


class _FoldedStats(Mapping[tuple[str, str], EdgeStats]):
    """A plan's build's EdgeStats, each made from the columns when it is first read: the wire of a plan's
    build reads the columns, so a live refresh makes few (the edges with traces or mirrored copies)."""

    __slots__ = ("_columns", "_made", "_plan", "_values")

    def __init__(self, plan: _Plan, columns: EdgeColumns) -> None:
        self._plan, self._columns = plan, columns
        self._made: dict[int, EdgeStats] = {}
        self._values: list[float] | None = None

    def __getitem__(self, key: tuple[str, str]) -> EdgeStats:
        i = self._plan.index[key]
        stats = self._made.get(i)
        if stats is None:
            if self._values is None and self._plan.shapes[i][1] is not None:
                self._values = self._columns.values.tolist()
            stats = self._made[i] = self._plan.edge_stats(i, self._columns, self._values or ())
        return stats

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._plan.ids)

    def __len__(self) -> int:
        return len(self._plan.ids)

    def __contains__(self, key: object) -> bool:
        return key in self._plan.index

    def __repr__(self) -> str:
        return repr(dict(self))


# The last plan of up to 8 views, the oldest dropped first (~2 KB per edge with its graph, column layout and
# percentile grouping).
_PLANS: OrderedDict[tuple[GraphType, frozenset[str]], _Plan] = OrderedDict()
_MAX_PLANS = 8


def forget_plans() -> None:
    """Drop every view's plan (benchmarks measure a view's first build with it)."""
    _PLANS.clear()


def _plan(heads: list[RateHead], values: list[float], graph_type: GraphType, namespaces: frozenset[str]) -> _Plan:
    key = (graph_type, namespaces)
    plan = _PLANS.get(key)
    # The parser interns label objects and memoises each series' head, so for a steady mesh this compares
    # identical objects: one C pass over the answer.
    if plan is None or plan.heads != heads:
        plan = _PLANS[key] = _Plan(rates_from_rows(Rows(heads, values)), heads, graph_type, namespaces)
        while len(_PLANS) > _MAX_PLANS:
            _PLANS.popitem(last=False)
    return plan


def build_topology(
    graph_type: GraphType,
    rates: Rows[RateHead] | Iterable[RequestRate],
    quantiles: Rows[QuantileHead] | Iterable[LatencyQuantile],
    *,
    as_of: float,
    window_s: float,
    namespaces: frozenset[str] = frozenset(),
    bounds: tuple[float, ...] | None = None,
    thresholds: HealthThresholds | None = None,
) -> Topology:
    """From parsed answers (Rows, as a refresh has them) or typed samples. `quantiles` as Rows or a tuple:
    grouped once per object (the same one comes with every refresh of its cadence). Rates whose heads repeat
    the previous build's of the view, in order, reuse its plan and graph."""
    if isinstance(rates, Rows):
        heads, values = rates
    else:
        samples = rates if isinstance(rates, list | tuple) else list(rates)
        heads, values = list(map(_HEAD, samples)), list(map(_VALUE, samples))
    plan = _plan(heads, values, graph_type, namespaces)
    percentiles = plan.aligned(_percentiles(quantiles, graph_type, bounds or ENVOY_BUCKETS_MS))
    columns = plan.layout.fold(np.array(values, dtype=np.float64), percentiles)
    return Topology(graph_type, as_of, window_s, plan.graph, _FoldedStats(plan, columns),
                    thresholds=thresholds or HealthThresholds(), columns=columns)  # fmt: skip


def add_node(graph: nx.DiGraph, key: NodeKey) -> None:
    """Adds the node or its workload; the workload sets are frozen: a graph's copy shares them."""
    if key.id not in graph:
        graph.add_node(key.id, key=key, workloads=frozenset())
    if key.workload:
        attrs = graph.nodes[key.id]
        attrs["workloads"] = attrs["workloads"] | {key.workload}
