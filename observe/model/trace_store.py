"""A bounded in-memory store of recent spans by trace, for trace search and the waterfall.

Traces are kept in arrival order of their first span. Bounds: `retention_s` (a trace whose newest span is older
is evicted) and `max_spans` in total (the oldest traces go first); both evictions are counted. Search pairs
the spans of each candidate trace (a CLIENT span with its SERVER children, as the pairer does) only when an
edge filter asks for it. Time is an argument, never read here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from observe.model.ids import GraphType, NodeKey
from observe.model.pairing import PairedRequest
from observe.model.spans import SpanKind, SpanRecord
from observe.model.trace_nodes import edge_key

_CLIENTS = frozenset({SpanKind.CLIENT, SpanKind.PRODUCER})
_SERVERS = frozenset({SpanKind.SERVER, SpanKind.CONSUMER})


@dataclass(frozen=True, slots=True)
class TraceSummary:
    trace_id: str
    root_service: str
    root_operation: str
    start_s: float
    duration_ms: float
    span_count: int
    error: bool
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TraceQuery:
    start_s: float
    end_s: float
    service: str | None = None
    edge: tuple[NodeKey, NodeKey] | None = None
    graph: GraphType = GraphType.VERSIONED_APP
    min_duration_ms: float = 0.0
    errors_only: bool = False
    limit: int = 20


class _Trace:
    __slots__ = ("last_seen", "spans")

    def __init__(self) -> None:
        self.spans: dict[str, SpanRecord] = {}
        self.last_seen = 0.0


class TraceStore:
    def __init__(self, max_spans: int = 200_000, retention_s: float = 3600.0) -> None:
        self.max_spans, self.retention_s = max_spans, retention_s
        self._traces: OrderedDict[str, _Trace] = OrderedDict()
        self.span_count = 0
        self.evicted_spans = 0

    def add(self, spans: Iterable[SpanRecord], now: float) -> None:
        for span in spans:
            trace = self._traces.get(span.trace_id)
            if trace is None:
                trace = self._traces[span.trace_id] = _Trace()
            if span.span_id not in trace.spans:
                self.span_count += 1
            trace.spans[span.span_id] = span
            trace.last_seen = now
        self.evict(now)

    def evict(self, now: float) -> None:
        while self._traces:
            trace_id, oldest = next(iter(self._traces.items()))
            if self.span_count <= self.max_spans and oldest.last_seen >= now - self.retention_s:
                break
            del self._traces[trace_id]
            self.span_count -= len(oldest.spans)
            self.evicted_spans += len(oldest.spans)

    def get(self, trace_id: str) -> list[SpanRecord] | None:
        trace = self._traces.get(trace_id)
        return sorted(trace.spans.values(), key=lambda s: s.start_s) if trace else None

    def search(self, query: TraceQuery) -> list[TraceSummary]:
        found: list[TraceSummary] = []
        for trace_id in reversed(self._traces):  # newest first
            spans = list(self._traces[trace_id].spans.values())
            summary = summarize(trace_id, spans)
            if _matches(summary, spans, query):
                found.append(summary)
                if len(found) >= query.limit:
                    break
        return found

    def server_durations(self, namespace: str, service: str, version: str, start_s: float, end_s: float,
                         limit: int = 5000) -> list[float]:  # fmt: skip
        """Durations (ms) of the SERVER spans of one version that started in [start_s, end_s), newest traces
        first, at most `limit`: the exact latencies a canary comparison tests (a sample, not every request)."""
        found: list[float] = []
        for trace_id in reversed(self._traces):
            for span in self._traces[trace_id].spans.values():
                if (span.kind in _SERVERS and span.version == version and span.service == service
                        and span.namespace == namespace and start_s <= span.start_s < end_s):  # fmt: skip
                    found.append(span.duration_ms)
            if len(found) >= limit:
                return found[:limit]
        return found


def summarize(trace_id: str, spans: list[SpanRecord]) -> TraceSummary:
    ids = {s.span_id for s in spans}
    root = min(spans, key=lambda s: (s.parent_id in ids, s.start_s))  # a span whose parent we lack, earliest
    start = min(s.start_s for s in spans)
    end = max(s.end_s for s in spans)
    return TraceSummary(trace_id, root.service, root.operation, start, round((end - start) * 1000, 3), len(spans),
                        any(s.error for s in spans), tuple(sorted({s.service for s in spans})))  # fmt: skip


def hops(spans: list[SpanRecord]) -> list[PairedRequest]:
    """The client→server hops of one complete trace; a client span with no server child goes to its peer."""
    children: dict[str, list[SpanRecord]] = {}
    for span in spans:
        if span.kind in _SERVERS and span.parent_id:
            children.setdefault(span.parent_id, []).append(span)
    out = []
    for span in spans:
        if span.kind in _CLIENTS:
            servers = children.get(span.span_id)
            out.append(PairedRequest.paired(span, servers) if servers else PairedRequest.unanswered(span))
    return out


def _matches(summary: TraceSummary, spans: list[SpanRecord], query: TraceQuery) -> bool:
    if summary.start_s + summary.duration_ms / 1000 < query.start_s or summary.start_s > query.end_s:
        return False
    if summary.duration_ms < query.min_duration_ms or (query.errors_only and not summary.error):
        return False
    if query.service and query.service not in summary.services:
        return False
    return query.edge is None or any(edge_key(h, query.graph) == query.edge for h in hops(spans))
