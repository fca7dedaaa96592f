"""Canary-vs-baseline use case: seven instant queries at `at`, the pure analysis, and the look history.

The release strategy (compare.strategy) comes from the live VirtualService when a reader is configured (the
edit pipeline's applier): it gives each version's configured weight and decides two cases the counts cannot:
- the canary receives only mirrored copies (no user request, shadow requests present): its responses to the
  copies (shadow inbound series) are compared with the baseline's to live requests (`mode: mirror`);
- the canary's requests all come from match routes (header, cookie, URI): the caller mix differs by design,
  so the answer is NOT_COMPARABLE naming the route; with weighted default-route traffic too, the reason says
  the comparison includes header-routed requests.

The look history (α spent so far, the last verdicts for the k-looks debounce) is kept in memory per
(namespace, service, baseline, canary), bounded (LRU, `max_histories`): a restart or an eviction only makes
the next look a first look again. A failing source never yields PASS: the answer is ERROR with `missing`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from observe.compare.analysis import VersionData, analyse
from observe.compare.latency import TraceComparison, compare_samples
from observe.compare.sequential import SpendingState, VerdictHistory, n_plan
from observe.compare.strategy import NONE, Strategy, read_strategy
from observe.compare.verdict import Verdict
from observe.errors import NotFound, SourceUnavailable
from observe.model.samples import VectorSample
from observe.model.trace_store import TraceStore
from observe.sources import compare_queries as q
from observe.sources.ports import MetricsSource

Key = tuple[str, str, str, str]
# (namespace, service) → {"VirtualService": obj | None, "DestinationRule": obj | None}
TrafficReader = Callable[[str, str], Awaitable[Mapping[str, Any]]]


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
    traffic_objects: TrafficReader | None = None  # the live VirtualService, when an applier is configured
    _looks: OrderedDict[Key, _Looks] = field(default_factory=OrderedDict)

    async def _query(self, promql: str, at: float) -> list[VectorSample]:
        return await self.metrics_source.query(promql, at, self.query_timeout_s)

    async def strategy(self, namespace: str, service: str, canary: str) -> Strategy:
        if self.traffic_objects is None:
            return NONE
        try:
            objects = await self.traffic_objects(namespace, service)
        except Exception as exc:  # an unreadable VirtualService must not fail the comparison
            return Strategy("none", f"the VirtualService could not be read: {exc}")
        return read_strategy(objects.get("VirtualService"), objects.get("DestinationRule"), canary)

    async def versions(self, namespace: str, service: str, window_s: float, at: float | None) -> dict[str, Any]:
        when = at if at is not None else self.clock()
        user, shadow = await asyncio.gather(
            *(self._query(q.inbound_query(namespace, service, window_s, shadow=s), when) for s in (False, True)))
        inbound, mirrored = q.parse_inbound(user), q.parse_inbound(shadow)
        if not inbound.requests and not mirrored.requests:
            raise NotFound(f"no requests to {namespace}/{service} in the last {window_s:g}s", field="service")
        total = sum(inbound.requests.values())
        strategy = await self.strategy(namespace, service, "")
        return {"namespace": namespace, "service": service, "as_of": when, "window_s": window_s,
                "versions": [{"version": v, "rps": round(inbound.requests.get(v, 0) / window_s, 4),
                              "requests": inbound.requests.get(v, 0),
                              "share": round(inbound.requests.get(v, 0) / total, 4) if total else None,
                              "configured_weight": strategy.weight(v),
                              "mirror_rps": round(mirrored.requests.get(v, 0) / window_s, 4)}
                             for v in sorted(inbound.requests.keys() | mirrored.requests.keys())]}  # fmt: skip

    async def compare(self, request: CompareRequest) -> dict[str, Any]:
        at = request.at if request.at is not None else self.clock()
        ns, svc, w = request.namespace, request.service, request.window_s
        queries = [q.presence_query(ns, svc), q.inbound_query(ns, svc, w), q.rejections_query(ns, svc, w),
                   q.buckets_query(ns, svc, w), q.outbound_query(ns, svc, w),
                   q.inbound_query(ns, svc, w, shadow=True), q.buckets_query(ns, svc, w, shadow=True)]  # fmt: skip
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
        presence, inbound, rejections, buckets, outbound, shadow_inbound, shadow_buckets = answers
        assert isinstance(presence, list) and isinstance(inbound, list) and isinstance(rejections, list)
        assert isinstance(buckets, list) and isinstance(outbound, list)
        assert isinstance(shadow_inbound, list) and isinstance(shadow_buckets, list)
        self._check_known(request, q.parse_presence(presence))
        user, copies = q.parse_inbound(inbound), q.parse_inbound(shadow_inbound)
        mirror = not user.requests.get(request.canary) and bool(copies.requests.get(request.canary))
        rejected, called, served = q.parse_rejections(rejections), q.parse_outbound(outbound), q.parse_buckets(buckets)
        b = self._version_data(request, request.baseline, user, rejected, served, called)
        canary_in, canary_buckets = (copies, q.parse_buckets(shadow_buckets)) if mirror else (user, served)
        c = self._version_data(request, request.canary, canary_in, rejected, canary_buckets, called)
        traces = None if mirror else await self._trace_latencies(request, at)
        strategy = await self.strategy(ns, svc, request.canary)
        return {**head, **self._judge(request, at, b, c, traces, strategy, mirror)}

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
    def _version_data(request: CompareRequest, version: str, inbound: q.Inbound,
                      rejections: dict[str, dict[str, int]], buckets: dict[str, dict[float, float]],
                      outbound: dict[str, dict[str, Any]]) -> VersionData:  # fmt: skip
        n = inbound.requests.get(version, 0)
        return VersionData(version, n, inbound.errors.get(version, 0), n / request.window_s,
                           dict(rejections.get(version, {})), dict(inbound.callers.get(version, {})),
                           buckets.get(version, {}), outbound.get(version, {}))  # fmt: skip

    def _judge(self, request: CompareRequest, at: float, b: VersionData, c: VersionData,
               traces: TraceComparison | None = None, strategy: Strategy = NONE, mirror: bool = False
               ) -> dict[str, Any]:  # fmt: skip
        looks = self._looks_for((request.namespace, request.service, request.baseline, request.canary))
        p_b = b.errors / b.requests if b.requests else 0.0
        alpha = looks.spending.look(min(b.requests, c.requests) / n_plan(p_b), at, request.window_s)
        analysis = analyse(b, c, alpha, traces=traces)
        verdict, reason = _strategy_verdict(analysis.verdict, analysis.reason, strategy, request.canary, mirror)
        stability = looks.history.record(verdict.value)
        total = b.requests + c.requests
        return {
            "verdict": verdict.value, "reason": reason, "mode": "mirror" if mirror else "live",
            "strategy": strategy.to_wire(),
            "stable_for": stability.stable_for, "actionable": stability.actionable, "k": looks.history.k,
            "look": {"number": looks.spending.looks, "alpha": round(alpha, 6),
                     "information": round(looks.spending.t_spent, 4), "method": "alpha-spending"},
            "needed_more": analysis.needed_more, "eta_s": None if analysis.eta_s is None else round(analysis.eta_s, 1),
            "traffic": {v.version: {"rps": round(v.rps, 4), "requests": v.requests,
                                    "configured_weight": strategy.weight(v.version),
                                    "share": round(v.requests / total, 4) if total else None} for v in (b, c)},
            "metrics": analysis.wire,
        }  # fmt: skip

    def _looks_for(self, key: Key) -> _Looks:
        looks = self._looks.pop(key, None) or _Looks(history=VerdictHistory(k=self.consecutive_k))
        self._looks[key] = looks
        while len(self._looks) > self.max_histories:
            self._looks.popitem(last=False)
        return looks


def _strategy_verdict(verdict: Verdict, reason: str, strategy: Strategy, canary: str,
                      mirror: bool) -> tuple[Verdict, str]:  # fmt: skip
    """What the release strategy changes in the verdict and its reason."""
    if strategy.match_routes and strategy.weight(canary) == 0 and not mirror and verdict is not Verdict.NO_TRAFFIC:
        routes = ", ".join(strategy.match_routes)
        return Verdict.NOT_COMPARABLE, (
            f"NOT_COMPARABLE: every request to {canary} comes from route {routes} (requests matching a header, "
            f"cookie or URI), so its callers differ from the baseline's by design; give {canary} a weight on the "
            f"default route, or compare the matched requests alone")  # fmt: skip
    if strategy.match_routes and not mirror:
        reason += (f"; the comparison includes header-routed requests (route {', '.join(strategy.match_routes)}) "
                   f"beside {canary}'s weighted default-route traffic")  # fmt: skip
    if mirror:
        reason += (f"; mirror: {canary} receives only mirrored copies of live requests (responses dropped), so its "
                   "responses to the copies (its shadow inbound series) are compared with the baseline's to live "
                   "requests")  # fmt: skip
    return verdict, reason
