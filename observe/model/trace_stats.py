"""Per-edge latency sketches from paired requests, in 10 s time slots, rolled up to any graph type on query.

Slotting. A request goes to slot floor(start_s / slot_s) of its endpoint pair (trace_nodes.Endpoint: the
finest identity traces give, with workload and called service), so one store answers every graph type:
`stats_for` maps each endpoint pair to that graph type's (source, destination) NodeKeys and merges. A window
[start, end) takes the slots from the one nearest its start to the one holding its end, so the covered time
(`covered`) differs from the window by at most half a slot; rates divide by the covered time. Each slot keeps
count, errors, a few exemplar trace ids (the slowest, and the first errors), and the latencies: raw while
there are few (sampled traces rarely give many per edge per slot), folded into a DDSketch (relative
accuracy 1 %, mergeable) past `_RAW_LIMIT`. A query merges slots into one sketch per edge, so P50/P95/P99
are within 1 % of the exact sample quantiles whatever the window.

Bounds: slots older than `retention_s` before `now` are dropped on insert (when a new slot opens) or by
`prune(now)`; a request older than that is refused (`too_old`); at most `max_edges` endpoint pairs are
held, requests on further pairs are refused and counted (`dropped`). Time is always an argument.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from ddsketch import DDSketch

from observe.model.ids import GraphType, NodeKey
from observe.model.pairing import PairedRequest
from observe.model.trace_nodes import Endpoint, endpoints, node_for

RELATIVE_ACCURACY = 0.01
_RAW_LIMIT = 64
_EdgeId = tuple[Endpoint, Endpoint]
EdgeKey = tuple[NodeKey, NodeKey]


@dataclass(frozen=True, slots=True)
class EdgeTraceStats:
    count: int
    errors: int
    error_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    exemplars: tuple[str, ...]  # trace ids: errors first, then the slowest


@dataclass(frozen=True, slots=True)
class TraceStatsCounters:
    recorded: int
    dropped: int  # refused: too many distinct edges
    too_old: int  # refused: older than the retention
    edges: int
    slots: int


class _Slot:
    """One edge in one time slot (mutable accumulator, never leaves this module)."""

    __slots__ = ("count", "error_ids", "errors", "raw", "sketch", "slowest")

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.raw: list[float] = []
        self.sketch: DDSketch | None = None
        self.slowest: list[tuple[float, str]] = []  # min-heap of the k slowest
        self.error_ids: list[str] = []

    def add(self, latency_ms: float, error: bool, trace_id: str, k: int) -> None:
        self.count += 1
        if self.sketch is not None:
            self.sketch.add(latency_ms)
        else:
            self.raw.append(latency_ms)
            if len(self.raw) > _RAW_LIMIT:
                self.sketch = _new_sketch(self.raw)
                self.raw = []
        if error:
            self.errors += 1
            if len(self.error_ids) < k:
                self.error_ids.append(trace_id)
        if len(self.slowest) < k:
            heapq.heappush(self.slowest, (latency_ms, trace_id))
        elif latency_ms > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, (latency_ms, trace_id))


class _Merged:
    __slots__ = ("count", "error_ids", "errors", "sketch", "slowest")

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.sketch = _new_sketch(())
        self.slowest: list[tuple[float, str]] = []
        self.error_ids: list[str] = []

    def merge(self, slot: _Slot) -> None:
        self.count += slot.count
        self.errors += slot.errors
        if slot.sketch is not None:
            self.sketch.merge(slot.sketch)
        for value in slot.raw:
            self.sketch.add(value)
        self.slowest.extend(slot.slowest)
        self.error_ids.extend(slot.error_ids)

    def result(self, k: int) -> EdgeTraceStats:
        slowest = [trace for _, trace in heapq.nlargest(k, self.slowest)]
        exemplars = tuple(dict.fromkeys([*self.error_ids[:k], *slowest]))
        return EdgeTraceStats(
            self.count, self.errors, self.errors / self.count if self.count else 0.0,
            _quantile(self.sketch, 0.50), _quantile(self.sketch, 0.95), _quantile(self.sketch, 0.99), exemplars,
        )  # fmt: skip


class TraceStats:
    def __init__(self, slot_s: float = 10.0, retention_s: float = 3600.0, max_edges: int = 10_000,
                 exemplars: int = 3) -> None:  # fmt: skip
        if slot_s <= 0 or retention_s < slot_s or max_edges <= 0 or exemplars < 0:
            raise ValueError("need slot_s > 0, retention_s >= slot_s, max_edges > 0, exemplars >= 0")
        self.slot_s = slot_s
        self.retention_s = retention_s
        self.max_edges = max_edges
        self.exemplars = exemplars
        self._slots: dict[int, dict[_EdgeId, _Slot]] = {}
        self._edge_slots: dict[_EdgeId, int] = {}  # edge → number of slots holding it
        self._recorded = self._dropped = self._too_old = 0

    @property
    def counters(self) -> TraceStatsCounters:
        return TraceStatsCounters(self._recorded, self._dropped, self._too_old, len(self._edge_slots),
                                  len(self._slots))  # fmt: skip

    def add(self, request: PairedRequest, now: float) -> bool:
        """Record one request; False when it was refused (too old, or too many edges)."""
        index = math.floor(request.start_s / self.slot_s)
        if index < self._oldest_kept(now):
            self._too_old += 1
            return False
        slot = self._slots.get(index)
        if slot is None:
            self.prune(now)
            slot = self._slots[index] = {}
        edge = endpoints(request)
        cell = slot.get(edge)
        if cell is None:
            if edge not in self._edge_slots and len(self._edge_slots) >= self.max_edges:
                self._dropped += 1
                return False
            cell = slot[edge] = _Slot()
            self._edge_slots[edge] = self._edge_slots.get(edge, 0) + 1
        cell.add(request.latency_ms, request.error, request.trace_id, self.exemplars)
        self._recorded += 1
        return True

    def add_many(self, requests: list[PairedRequest], now: float) -> int:
        return sum(self.add(request, now) for request in requests)

    def prune(self, now: float) -> int:
        """Drop slots that ended more than `retention_s` before `now`; returns how many went."""
        oldest = self._oldest_kept(now)
        stale = [index for index in self._slots if index < oldest]
        for index in stale:
            for edge in self._slots.pop(index):
                left = self._edge_slots[edge] - 1
                if left:
                    self._edge_slots[edge] = left
                else:
                    del self._edge_slots[edge]
        return len(stale)

    def slots_for(self, window_start: float, window_end: float) -> tuple[int, int]:
        """First and last slot answering [window_start, window_end): the first is the slot nearest the start,
        so the covered time differs from the window by at most half a slot."""
        return math.floor(window_start / self.slot_s + 0.5), math.ceil(window_end / self.slot_s) - 1

    def covered(self, window_start: float, window_end: float) -> tuple[float, float]:
        """The time the answer for [window_start, window_end) really covers."""
        first, last = self.slots_for(window_start, window_end)
        return first * self.slot_s, min(window_end, (last + 1) * self.slot_s)

    def stats_for(self, window_start: float, window_end: float, graph: GraphType) -> dict[EdgeKey, EdgeTraceStats]:
        """Every edge of `graph` with requests in the slots answering [window_start, window_end)."""
        first, last = self.slots_for(window_start, window_end)
        merged: dict[EdgeKey, _Merged] = {}
        nodes: dict[Endpoint, NodeKey] = {}
        for index, slot in self._slots.items():
            if not first <= index <= last:
                continue
            for (source, destination), cell in slot.items():
                key = (_node(nodes, source, graph), _node(nodes, destination, graph))
                if key not in merged:
                    merged[key] = _Merged()
                merged[key].merge(cell)
        return {key: acc.result(self.exemplars) for key, acc in merged.items()}

    def _oldest_kept(self, now: float) -> int:
        """Index of the oldest slot still inside the retention (its end is after now − retention)."""
        return math.floor((now - self.retention_s) / self.slot_s)


def _node(cache: dict[Endpoint, NodeKey], endpoint: Endpoint, graph: GraphType) -> NodeKey:
    node = cache.get(endpoint)
    if node is None:
        node = cache[endpoint] = node_for(endpoint, graph)
    return node


def _new_sketch(values: list[float] | tuple[float, ...]) -> DDSketch:
    sketch = DDSketch(relative_accuracy=RELATIVE_ACCURACY)
    for value in values:
        sketch.add(value)
    return sketch


def _quantile(sketch: DDSketch, q: float) -> float:
    value = sketch.get_quantile_value(q)
    return math.nan if value is None else float(value)
