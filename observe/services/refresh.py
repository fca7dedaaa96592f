"""Shared refresh of metric snapshots: single-flight, TTL cache, background refresh, last-good on failure.

A live view is (query label set, window). Every viewer of it, whatever its graph type or namespaces, reads the
same snapshot, so N viewers cost one query set per refresh. A request finds the snapshot fresh (younger than
`refresh_s`), or joins the refresh already in flight, or starts one. A background loop keeps each view that was
asked for within `idle_timeout_s` fresh, so viewers rarely wait. Percentiles are re-queried only when older than
`percentile_refresh_s`. A failed query keeps the last good data, marks it stale and says what is missing.
Both queries are asked keyed (istio_queries.keyed: each series' labels joined into one, a third of the bytes),
or plainly for a view whose label values hold the key's separator.
Past instants (`at`) are immutable: fetched once, kept in a bounded LRU.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar, cast

from observe.errors import SourceUnavailable
from observe.model.samples import QuantileHead, RateHead, Rows
from observe.model.topology import MissingSource
from observe.services.telemetry import SelfMetrics
from observe.sources.istio_queries import KEY_SEPARATOR, UNKEYABLE, Unkeyable, keyed, quantile_head, rate_head
from observe.sources.ports import MetricsSource

log = logging.getLogger(__name__)
_SERIALS = itertools.count(1)
H = TypeVar("H")


@dataclass(frozen=True, slots=True)
class ViewKey:
    rates_query: str
    quantiles_query: str


@dataclass(frozen=True)
class Snapshot:
    as_of: float  # evaluation time of the rates
    fetched_at: float  # when the last attempt ended, good or not: the TTL runs from here
    rates: Rows[RateHead] = field(default_factory=lambda: Rows([], []))  # as parsed: the model builds from them
    quantiles: Rows[QuantileHead] = field(default_factory=lambda: Rows([], []))
    quantiles_as_of: float | None = None
    missing: tuple[MissingSource, ...] = ()
    stale: bool = False
    has_data: bool = True  # False only when no query has ever succeeded for this view
    serial: int = 0  # unique per fetch, so answers built from a snapshot can be memoised


@dataclass(frozen=True)
class RefreshPolicy:
    refresh_s: float = 10.0
    percentile_refresh_s: float = 30.0
    query_timeout_s: float = 5.0
    idle_timeout_s: float = 300.0
    history_cache_size: int = 64


@dataclass
class _View:
    key: ViewKey
    snapshot: Snapshot | None = None
    inflight: asyncio.Task[Snapshot] | None = None
    last_requested: float = 0.0


@dataclass
class SnapshotCache:
    source: MetricsSource
    policy: RefreshPolicy
    metrics: SelfMetrics = field(default_factory=SelfMetrics)
    clock: Callable[[], float] = time.time
    _live: dict[ViewKey, _View] = field(default_factory=dict)
    _history: OrderedDict[tuple[ViewKey, float], Snapshot] = field(default_factory=OrderedDict)
    _history_inflight: dict[tuple[ViewKey, float], asyncio.Task[Snapshot]] = field(default_factory=dict)
    _plain: set[str] = field(default_factory=set)  # queries asked plainly (see _rows)

    async def live(self, key: ViewKey) -> Snapshot:
        view = self._live.setdefault(key, _View(key))
        view.last_requested = self.clock()
        self.metrics.views.set(len(self._live))
        snap = view.snapshot
        if snap is not None and self.clock() - snap.fetched_at < self.policy.refresh_s:
            self.metrics.cache.labels("hit").inc()
            return snap
        self.metrics.cache.labels("wait").inc()
        return await asyncio.shield(self._start_refresh(view))

    def _start_refresh(self, view: _View) -> asyncio.Task[Snapshot]:
        if view.inflight is None or view.inflight.done():
            # A fresh context: the refresh serves every viewer, not the request (and its id) that started it.
            view.inflight = asyncio.create_task(self._refresh(view), context=contextvars.Context())
        return view.inflight

    async def _refresh(self, view: _View) -> Snapshot:
        previous = view.snapshot
        now = self.clock()
        due = previous is None or previous.quantiles_as_of is None or (
            now - previous.quantiles_as_of >= self.policy.percentile_refresh_s
        )
        with self.metrics.refresh_seconds.labels("live").time():
            view.snapshot = await self._fetch(view.key, now, previous, with_quantiles=due)
        return view.snapshot

    async def history(self, key: ViewKey, at: float) -> Snapshot:
        cache_key = (key, round(at, 3))
        if cache_key in self._history:
            self._history.move_to_end(cache_key)
            self.metrics.cache.labels("hit").inc()
            return self._history[cache_key]
        task = self._history_inflight.get(cache_key)
        if task is None:
            task = asyncio.create_task(self._fetch(key, at, None, with_quantiles=True), context=contextvars.Context())
            self._history_inflight[cache_key] = task
        try:
            snap = await asyncio.shield(task)
        finally:
            self._history_inflight.pop(cache_key, None)
        if not snap.missing:  # only complete answers are immutable; a failed one may be retried
            self._history[cache_key] = snap
            while len(self._history) > self.policy.history_cache_size:
                self._history.popitem(last=False)
        return snap

    async def _rows(
        self, kind: str, promql: str, at: float, parse: Callable[[dict[str, str]], H | Unkeyable | None]
    ) -> Rows[H]:
        """The answer asked keyed (istio_queries.keyed: a third of the bytes), or plainly for a query whose series'
        label values hold the key's separator: found by the first answer, which is then asked again plainly."""
        if promql not in self._plain:
            rows = await self._query(kind, keyed(promql, ("quantile",) if kind == "quantiles" else ()), at, parse)
            if UNKEYABLE not in rows.heads:
                return cast(Rows[H], rows)
            self._plain.add(promql)
            log.warning("label values hold %r: this view's %s are asked plainly from now on", KEY_SEPARATOR, kind)
        return cast(Rows[H], await self._query(kind, promql, at, parse))

    async def _query(
        self, kind: str, promql: str, at: float, parse: Callable[[dict[str, str]], H | Unkeyable | None]
    ) -> Rows[H | Unkeyable]:
        self.metrics.queries.labels(kind).inc()
        try:
            return await self.source.query_parsed(promql, at, self.policy.query_timeout_s, parse)
        except SourceUnavailable:
            self.metrics.source_errors.labels(self.source.name).inc()
            raise

    async def _fetch(self, key: ViewKey, at: float, previous: Snapshot | None, *, with_quantiles: bool) -> Snapshot:
        rates, quantiles = await asyncio.gather(
            self._rows("rates", key.rates_query, at, rate_head),
            self._rows("quantiles", key.quantiles_query, at, quantile_head) if with_quantiles else _no_rows(),
            return_exceptions=True,
        )
        missing: list[MissingSource] = []
        base = previous or Snapshot(as_of=at, fetched_at=at, has_data=False)
        snap = replace(base, missing=(), stale=False, fetched_at=self.clock())
        if isinstance(rates, BaseException):
            missing.append(_missing(rates, self.source.name, "rates"))
            snap = replace(snap, stale=previous is not None)
        else:
            snap = replace(snap, as_of=at, rates=rates, has_data=True)
        if with_quantiles:
            if isinstance(quantiles, BaseException):
                missing.append(_missing(quantiles, self.source.name, "percentiles"))
            else:
                snap = replace(snap, quantiles=quantiles, quantiles_as_of=at)
        return replace(snap, missing=tuple(missing), serial=next(_SERIALS))

    async def run_background(self) -> None:
        """Keep recently viewed live views fresh; forget idle ones. Runs until cancelled."""
        tick = max(0.2, min(1.0, self.policy.refresh_s / 4))
        while True:
            await asyncio.sleep(tick)
            now = self.clock()
            for key, view in list(self._live.items()):
                if now - view.last_requested > self.policy.idle_timeout_s:
                    del self._live[key]
                elif view.snapshot is None or now - view.snapshot.fetched_at >= self.policy.refresh_s:
                    self._start_refresh(view)
            self.metrics.views.set(len(self._live))

    async def close(self) -> None:
        tasks = [v.inflight for v in self._live.values() if v.inflight] + list(self._history_inflight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _no_rows() -> Rows[QuantileHead]:
    return Rows([], [])


def _missing(exc: BaseException, source: str, what: str) -> MissingSource:
    if isinstance(exc, SourceUnavailable):
        return MissingSource(exc.source, f"{what}: {exc.message}")
    log.exception("unexpected error while querying %s", source, exc_info=exc)
    return MissingSource(source, f"{what}: internal error ({type(exc).__name__})")
