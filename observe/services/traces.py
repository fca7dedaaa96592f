"""Trace use case: spans in (OTLP receiver, Jaeger poller) → pairing → per-edge sketches and a trace store.

All span state lives here, behind one object, mutated only on the event loop: the receiver hands decoded spans
to `ingest`; a background loop expires unmatched spans once a second (TTL pairing) and prunes retention. Time is
read here and passed into the pure model.

Jaeger polling: every `poll_s`, search [last end, now − lag] (the lag lets traces finish before they are read)
with a budget (`limit` traces, `timeout_s`); traces already ingested are skipped by id (a bounded LRU), so a
trace is paired once. A failed poll is kept as the source's error and reported as missing until one succeeds;
the next poll resumes from the same point, so a short outage loses nothing inside Jaeger's retention.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from observe.errors import BadQuery, NotFound, SourceUnavailable
from observe.model.ids import GraphType
from observe.model.pairing import Pairer
from observe.model.spans import SpanRecord, normalize_trace_id
from observe.model.trace_stats import EdgeKey, EdgeTraceStats, TraceStats
from observe.model.trace_store import TraceQuery, TraceStore, TraceSummary
from observe.services.telemetry import SelfMetrics
from observe.sources.ports import TraceSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TraceLimits:
    pairing_ttl_s: float = 10.0
    pairing_max_items: int = 100_000
    retention_s: float = 3600.0
    slot_s: float = 10.0
    max_edges: int = 20_000
    max_spans: int = 200_000  # kept whole for the trace API


@dataclass(frozen=True)
class JaegerPolling:
    poll_s: float = 15.0
    lag_s: float = 10.0  # read traces this old, so they are complete
    limit: int = 500  # traces per poll
    timeout_s: float = 10.0
    first_window_s: float = 300.0  # how far back the first poll reaches
    remember: int = 100_000  # trace ids already ingested


@dataclass
class TraceService:
    limits: TraceLimits = field(default_factory=TraceLimits)
    metrics: SelfMetrics = field(default_factory=SelfMetrics)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.pairer = Pairer(self.limits.pairing_ttl_s, self.limits.pairing_max_items)
        self.stats = TraceStats(self.limits.slot_s, self.limits.retention_s, self.limits.max_edges)
        self.store = TraceStore(self.limits.max_spans, self.limits.retention_s)
        self.generation = 0  # bumps on every change, so answers that include trace stats can be memoised
        self.source_errors: dict[str, str] = {}  # trace source → why its last call failed
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._polled_until: float | None = None
        self._epoch: tuple[int, int] = (-1, 0)  # (tick, generation at its start)

    def ingest(self, spans: Sequence[SpanRecord], origin: str) -> None:
        now = self.clock()
        self.metrics.spans_received.labels(origin).inc(len(spans))
        self.store.add(spans, now)
        self.stats.add_many(self.pairer.add_many(spans, now), now)
        self.generation += 1
        self._publish()

    def expire(self) -> None:
        now = self.clock()
        expired = self.pairer.expire(now)
        if expired:
            self.stats.add_many(expired, now)
            self.generation += 1
        self.stats.prune(now)
        self.store.evict(now)
        self._publish()

    def _publish(self) -> None:
        c, s = self.pairer.counters, self.stats.counters
        m = self.metrics
        m.trace_pending.set(c.pending)
        m.trace_store_spans.set(self.store.span_count)
        for name, value in (("pairing_full", c.dropped), ("too_many_edges", s.dropped), ("too_old", s.too_old),
                            ("evicted", self.store.evicted_spans)):  # fmt: skip
            m.sync_counter(m.spans_dropped, name, value)
        outcomes = {"paired": c.paired, "expired_client": c.expired_clients, "expired_server": c.expired_servers,
                    "root": c.roots, "retry": c.retries}  # fmt: skip
        for name, value in outcomes.items():
            m.sync_counter(m.span_pairs, name, value)

    async def run_background(self, interval_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.expire()

    async def poll(self, source: TraceSource, polling: JaegerPolling) -> int:
        """One Jaeger poll; returns the number of new spans ingested."""
        now = self.clock()
        end = now - polling.lag_s
        start = self._polled_until if self._polled_until is not None else end - polling.first_window_s
        if end <= start:
            return 0
        try:
            spans = await source.find_traces(None, start, end, polling.limit, polling.timeout_s)
        except SourceUnavailable as exc:
            self._set_error(source.name, exc.message)
            self.metrics.source_errors.labels(source.name).inc()
            return 0
        self._set_error(source.name, None)
        self._polled_until = end
        fresh = [s for s in spans if s.trace_id not in self._seen]
        for trace_id in {s.trace_id for s in fresh}:
            self._seen[trace_id] = None
        while len(self._seen) > polling.remember:
            self._seen.popitem(last=False)
        if fresh:
            self.ingest(fresh, origin=source.name)
        return len(fresh)

    def _set_error(self, source: str, error: str | None) -> None:
        if self.source_errors.get(source) != error:
            self.generation += 1
            if error is None:
                del self.source_errors[source]
                log.info("%s is answering again", source)
            else:
                self.source_errors[source] = error
                log.warning("%s failed: %s", source, error)

    async def run_polling(self, source: TraceSource, polling: JaegerPolling) -> None:
        while True:
            await self.poll(source, polling)
            await asyncio.sleep(polling.poll_s)

    def epoch(self, every_s: float) -> int:
        """The generation as it was at the start of the current `every_s` tick. Spans arrive many times a second;
        answers keyed by this are rebuilt at most once a tick, not on every span batch."""
        tick = int(self.clock() // every_s)
        if self._epoch[0] != tick:
            self._epoch = (tick, self.generation)
        return self._epoch[1]

    def edge_stats(self, graph: GraphType, start_s: float, end_s: float) -> dict[EdgeKey, EdgeTraceStats]:
        return self.stats.stats_for(start_s, end_s, graph)

    def covered_s(self, start_s: float, end_s: float) -> float:
        first, last = self.stats.covered(start_s, end_s)
        return max(0.0, last - first)

    def search(self, query: TraceQuery) -> list[TraceSummary]:
        return self.store.search(query)

    async def get(
        self, raw_id: str, remote: TraceSource | None = None, timeout_s: float = 10.0
    ) -> list[SpanRecord]:
        """From the store, else from `remote` (Jaeger keeps traces far longer than we do)."""
        trace_id = normalize_trace_id(raw_id)
        if trace_id is None:
            raise BadQuery(f"invalid trace id '{raw_id}': expected 32 hex digits", field="trace_id")
        spans = self.store.get(trace_id)
        if spans is not None:
            return spans
        if remote is not None:
            return await remote.get_trace(trace_id, timeout_s)
        raise NotFound(f"trace {trace_id} is not in the store (kept {self.limits.retention_s:g}s)", field="trace_id")
