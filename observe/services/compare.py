"""Canary-vs-baseline use case: five instant queries at `at`, the pure analysis, and the look history.

The look history (α spent so far, the last verdicts for the k-looks debounce) is kept in memory per
(namespace, service, baseline, canary), bounded (LRU, `max_histories`): a restart or an eviction only makes
the next look a first look again. A failing source never yields PASS: the answer is ERROR with `missing`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from observe.compare.analysis import VersionData, analyse
from observe.compare.latency import TraceComparison, compare_samples
from observe.compare.sequential import SpendingState, VerdictHistory, n_plan
from observe.compare.verdict import Verdict
from observe.errors import NotFound, SourceUnavailable
from observe.model.samples import VectorSample
from observe.model.trace_store import TraceStore
from observe.sources import compare_queries as q
from observe.sources.ports import MetricsSource

Key = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class CompareRequest:
    namespace: str
    service: str
    baseline: str
    canary: str
    window_s: float
    at: float | None


@dataclass
class _Looks:
    spending: SpendingState = field(default_factory=SpendingState)
    history: VerdictHistory = field(default_factory=VerdictHistory)


@dataclass
class CompareService:
    metrics_source: MetricsSource
    query_timeout_s: float = 5.0
    clock: Callable[[], float] = time.time
    consecutive_k: int = 3
    max_histories: int = 1000
    trace_store: TraceStore | None = None  # exact latencies of a sample of requests, when spans are received
    _looks: OrderedDict[Key, _Looks] = field(default_factory=OrderedDict)

    async def _query(self, promql: str, at: float) -> list[VectorSample]:
        return await self.metrics_source.query(promql, at, self.query_timeout_s)

    async def versions(self, namespace: str, service: str, window_s: float, at: float | None) -> dict[str, Any]:
        when = at if at is not None else self.clock()
        inbound = q.parse_inbound(await self._query(q.inbound_query(namespace, service, window_s), when))
        if not inbound.requests:
            raise NotFound(f"no requests to {namespace}/{service} in the last {window_s:g}s", field="service")
        total = sum(inbound.requests.values())
        return {"namespace": namespace, "service": service, "as_of": when, "window_s": window_s,
                "versions": [{"version": v, "rps": round(n / window_s, 4), "requests": n,
                              "share": round(n / total, 4) if total else None, "configured_weight": None}
                             for v, n in sorted(inbound.requests.items())]}  # fmt: skip

    async def compare(self, request: CompareRequest) -> dict[str, Any]:
        at = request.at if request.at is not None else self.clock()
        ns, svc, w = request.namespace, request.service, request.window_s
        queries = [q.presence_query(ns, svc), q.inbound_query(ns, svc, w), q.rejections_query(ns, svc, w),
                   q.buckets_query(ns, svc, w), q.outbound_query(ns, svc, w)]  # fmt: skip
        answers = await asyncio.gather(*(self._query(p, at) for p in queries), return_exceptions=True)
        missing = [{"source": a.source, "error": a.message} for a in answers if isinstance(a, SourceUnavailable)]
        for a in answers:
            if isinstance(a, BaseException) and not isinstance(a, SourceUnavailable):
                raise a
        head = {"namespace": ns, "service": svc, "baseline": request.baseline, "canary": request.canary,
                "as_of": at, "window_s": w, "missing": missing}  # fmt: skip
        if missing:
            return {**head, "verdict": Verdict.ERROR.value, "stable_for": 0, "actionable": False, "metrics": None,
                    "reason": "ERROR: the metrics source failed, so nothing can be concluded: "
                    + "; ".join(m["error"] for m in missing)}  # fmt: skip
        presence, inbound, rejections, buckets, outbound = answers
        assert isinstance(presence, list) and isinstance(inbound, list) and isinstance(rejections, list)
        assert isinstance(buckets, list) and isinstance(outbound, list)
        self._check_known(request, q.parse_presence(presence))
        data = self._version_data(request, q.parse_inbound(inbound), q.parse_rejections(rejections),
                                  q.parse_buckets(buckets), q.parse_outbound(outbound))  # fmt: skip
        traces = await self._trace_latencies(request, at)
        return {**head, **self._judge(request, at, *data, traces)}

    async def _trace_latencies(self, request: CompareRequest, at: float) -> TraceComparison | None:
        """Hodges–Lehmann shift, KS and ECDFs from the SERVER spans of both versions in the window (off the
        event loop: the rank statistics over thousands of samples take tens of milliseconds)."""
        if self.trace_store is None:
            return None
        start = at - request.window_s
        b, c = (self.trace_store.server_durations(request.namespace, request.service, v, start, at)
                for v in (request.baseline, request.canary))  # fmt: skip
        if not b and not c:
            return None
        return await asyncio.to_thread(compare_samples, b, c)

    @staticmethod
    def _check_known(request: CompareRequest, known: set[str]) -> None:
        if not known:
            raise NotFound(f"no metrics for service {request.namespace}/{request.service} in the last hour",
                           field="service")  # fmt: skip
        for name in ("baseline", "canary"):
            version = getattr(request, name)
            if version not in known:
                raise NotFound(f"version '{version}' of {request.namespace}/{request.service} has no metrics in "
                               f"the last hour; known: {', '.join(sorted(known))}", field=name)  # fmt: skip

    @staticmethod
    def _version_data(request: CompareRequest, inbound: q.Inbound, rejections: dict[str, dict[str, int]],
                      buckets: dict[str, dict[float, float]], outbound: dict[str, dict[str, Any]]
                      ) -> tuple[VersionData, VersionData]:  # fmt: skip
        def one(version: str) -> VersionData:
            n = inbound.requests.get(version, 0)
            return VersionData(version, n, inbound.errors.get(version, 0), n / request.window_s,
                               dict(rejections.get(version, {})), dict(inbound.callers.get(version, {})),
                               buckets.get(version, {}), outbound.get(version, {}))  # fmt: skip

        return one(request.baseline), one(request.canary)

    def _judge(self, request: CompareRequest, at: float, b: VersionData, c: VersionData,
               traces: TraceComparison | None = None) -> dict[str, Any]:  # fmt: skip
        looks = self._looks_for((request.namespace, request.service, request.baseline, request.canary))
        p_b = b.errors / b.requests if b.requests else 0.0
        alpha = looks.spending.look(min(b.requests, c.requests) / n_plan(p_b), at, request.window_s)
        analysis = analyse(b, c, alpha, traces=traces)
        stability = looks.history.record(analysis.verdict.value)
        total = b.requests + c.requests
        return {
            "verdict": analysis.verdict.value, "reason": analysis.reason,
            "stable_for": stability.stable_for, "actionable": stability.actionable, "k": looks.history.k,
            "look": {"number": looks.spending.looks, "alpha": round(alpha, 6),
                     "information": round(looks.spending.t_spent, 4), "method": "alpha-spending"},
            "needed_more": analysis.needed_more, "eta_s": None if analysis.eta_s is None else round(analysis.eta_s, 1),
            "traffic": {v.version: {"rps": round(v.rps, 4), "requests": v.requests, "configured_weight": None,
                                    "share": round(v.requests / total, 4) if total else None} for v in (b, c)},
            "metrics": analysis.wire,
        }  # fmt: skip

    def _looks_for(self, key: Key) -> _Looks:
        looks = self._looks.pop(key, None) or _Looks(history=VerdictHistory(k=self.consecutive_k))
        self._looks[key] = looks
        while len(self._looks) > self.max_histories:
            self._looks.popitem(last=False)
        return looks
