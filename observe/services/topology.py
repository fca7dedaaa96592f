"""Topology use case: a (graph, namespaces, window, at) request → the wire topology, from shared snapshots.

The snapshot (raw samples) is shared per query set; the graph for a graph type and namespace selection is
built from it off the event loop, and the answer's JSON bytes (only them: the wire dicts would be ~10 objects
per edge for the garbage collector to walk) are memoised per (view, snapshot, trace epoch): viewers of the
same view share one build and one serialisation, and viewers arriving while it runs wait for it rather than
starting their own (single flight). Trace statistics change with every
span batch, so they enter the key as an epoch that moves at most once per `trace_refresh_s`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import orjson

from observe.model.edge_stats import HealthThresholds
from observe.model.ids import GraphType
from observe.model.merge import merge_traces
from observe.model.topology import EdgeKey, MissingSource, Topology, build_topology
from observe.model.trace_stats import EdgeTraceStats
from observe.model.wire import WireTopology, topology_to_json
from observe.services.refresh import Snapshot, SnapshotCache, ViewKey
from observe.services.rules import RulesProbe
from observe.services.traces import TraceService
from observe.sources.istio_queries import quantiles_query, rates_query

TraceView = tuple[dict[EdgeKey, EdgeTraceStats], float]  # per-edge trace statistics, seconds they cover


@dataclass(frozen=True, slots=True)
class TopologyRequest:
    graph: GraphType
    namespaces: frozenset[str]
    window_s: float
    at: float | None = None  # None: live


@dataclass
class TopologyService:
    snapshots: SnapshotCache
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)
    bounds: tuple[float, ...] | None = None
    traces: TraceService | None = None
    rules: RulesProbe | None = None
    trace_refresh_s: float = 2.0
    max_answers: int = 64
    _memo: OrderedDict[tuple[TopologyRequest, int, int], asyncio.Future[bytes]] = field(default_factory=OrderedDict)

    @staticmethod
    def view_key(graph: GraphType, window_s: float, rules: bool = False) -> ViewKey:
        return ViewKey(rates_query(graph, window_s, rules=rules), quantiles_query(graph, window_s, rules=rules))

    async def snapshot(self, request: TopologyRequest) -> Snapshot:
        if request.at is None:
            rules = self.rules is not None and await self.rules.use_rules(request.window_s)
            return await self.snapshots.live(self.view_key(request.graph, request.window_s, rules))
        # A past instant reads raw series: the recording rules may not have existed then.
        return await self.snapshots.history(self.view_key(request.graph, request.window_s), request.at)

    def trace_stats(self, request: TopologyRequest, snap: Snapshot) -> TraceView | None:
        """Read on the event loop: the trace state is only ever touched there."""
        if self.traces is None:
            return None
        start = snap.as_of - request.window_s
        return self.traces.edge_stats(request.graph, start, snap.as_of), self.traces.covered_s(start, snap.as_of)

    def build(
        self, request: TopologyRequest, snap: Snapshot, trace_stats: TraceView | None = None
    ) -> Topology:
        topology = build_topology(
            request.graph,
            snap.rates,
            snap.quantiles,
            as_of=snap.as_of,
            window_s=request.window_s,
            namespaces=request.namespaces,
            bounds=self.bounds,
            thresholds=self.thresholds,
        )
        missing = snap.missing + tuple(
            MissingSource(name, error) for name, error in (self.traces.source_errors if self.traces else {}).items()
        )
        topology = replace(topology, missing=missing, stale=snap.stale)
        return topology if trace_stats is None else merge_traces(topology, *trace_stats)

    async def topology(self, request: TopologyRequest) -> Topology:
        snap = await self.snapshot(request)
        return await asyncio.to_thread(self.build, request, snap, self.trace_stats(request, snap))

    async def wire(self, request: TopologyRequest) -> WireTopology:
        wire: WireTopology = orjson.loads(await self.wire_json(request))
        return wire

    async def wire_json(self, request: TopologyRequest) -> bytes:
        snap = await self.snapshot(request)
        memo_key = (request, snap.serial, self.traces.epoch(self.trace_refresh_s) if self.traces else 0)
        task = self._memo.get(memo_key)
        if task is None or (task.done() and task.exception() is not None):  # a failed build is retried
            stats = self.trace_stats(request, snap)
            # a task, not the request's own coroutine: a viewer who disconnects does not cancel the others' answer
            task = asyncio.ensure_future(asyncio.to_thread(self._render, request, snap, stats))
            # The view's answers for older snapshots are never asked again (their waiters hold their task):
            # dropped now, not when 64 newer ones push them out, they would hold one graph per view per refresh.
            for stale in [key for key in self._memo if key[0] == request]:
                del self._memo[stale]
            self._memo[memo_key] = task
            while len(self._memo) > self.max_answers:
                self._memo.popitem(last=False)
        self._memo.move_to_end(memo_key)
        return await asyncio.shield(task)

    def _render(self, request: TopologyRequest, snap: Snapshot, stats: TraceView | None) -> bytes:
        return topology_to_json(self.build(request, snap, stats))
