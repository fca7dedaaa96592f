"""Figures against a live stack (benchmarks.stack: the synthetic exporter + a real Prometheus).

- answers: the rates and percentile answers of one refresh (a view's keyed queries), fetched once; CPU time
  of parsing them into rows as a refresh does, of building the graph from the rows, and of the wire JSON;
- plans: PromQL queries per refresh of observe (counted by its own SelfMetrics) for a few namespaces and for
  all, and Kiali's plan for the same selections (benchmarks.kiali_plan); the time of both plans on the same
  Prometheus, sequentially (Kiali's is bounded: past its budget the rest is extrapolated, and said so);
  the percentile query is timed on its own (p99_path): it runs on a slower cadence than the rates;
- refresh: end-to-end refreshes through the real services (PrometheusSource → SnapshotCache → TopologyService
  → JSON) beside the plain HTTP time of the same rates query; our overhead is the difference; event-loop lag
  from a 10 ms ticker task running meanwhile (RSS is measured on a real `observe serve`: benchmarks.viewers);
- p99: the percentile query from raw buckets and from observe's recording rules (when the stack has them);
  on a large mesh the raw query may exceed Prometheus's timeout, which is then the figure.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import requests

from benchmarks.kiali_plan import plan as kiali_plan
from benchmarks.stack import LiveStack
from benchmarks.timing import cpu_ms, quantile
from observe.model.ids import GraphType
from observe.model.samples import Rows
from observe.model.topology import build_topology, forget_plans
from observe.model.wire import topology_to_json
from observe.services.refresh import RefreshPolicy, SnapshotCache, ViewKey
from observe.services.telemetry import SelfMetrics
from observe.services.topology import TopologyRequest, TopologyService
from observe.sources import istio_queries
from observe.sources.istio_queries import (
    IDENTITY_LABELS,
    QUANTILES,
    keyed,
    quantile_head,
    rate_head,
)
from observe.sources.prometheus import ParsedSeries, PrometheusSource

GRAPH = GraphType.VERSIONED_APP
WINDOW_S = 60.0
Figures = dict[str, Any]


def _view(rules: bool = False) -> ViewKey:
    """The queries a topology view of GRAPH sends: keyed (services.refresh, istio_queries.keyed)."""
    plain = TopologyService.view_key(GRAPH, WINDOW_S, rules)
    return ViewKey(keyed(plain.rates_query), keyed(plain.quantiles_query, keep=("quantile",)))


def _timed_out(exc: requests.HTTPError) -> bool:
    return exc.response is not None and exc.response.status_code == 503  # Prometheus's errorType "timeout"


def quantiles_body(stack: LiveStack, timeout_s: float) -> tuple[bytes, str]:
    """The percentile answer, and where it came from. When the raw-bucket query times out (a large mesh on a
    small machine), a stand-in with the same shape (one sample per edge and quantile, the same labels) is
    asked instead, so parsing is still measured on a real answer's size."""
    try:
        return stack.raw_query(_view().quantiles_query, timeout_s=timeout_s)[1], "raw buckets"
    except requests.HTTPError as exc:
        if not _timed_out(exc):
            raise
    by = ", ".join(IDENTITY_LABELS[GRAPH])
    counts = f'sum by ({by}) (istio_requests_total{{reporter="destination",response_code="200"}})'
    stand_in = " or ".join(f'label_replace({counts}, "quantile", "{q:g}", "", "")' for q in QUANTILES)
    body = stack.raw_query(keyed(stand_in, keep=("quantile",)))[1]
    return body, "stand-in of the same shape (the raw query timed out)"


def answers(stack: LiveStack, repeat: int = 5, quantiles_timeout_s: float = 60.0) -> Figures:
    """CPU cost of one refresh's answers, from the real bodies Prometheus sent."""
    _, rates_body = stack.raw_query(_view().rates_query)
    percentiles, origin = quantiles_body(stack, quantiles_timeout_s)
    return measure_answers(rates_body, percentiles, repeat) | {"quantiles_from": origin}


def measure_answers(rates_body: bytes, quantiles_body: bytes, repeat: int) -> Figures:
    """CPU (best, median) ms of parsing both answers as a refresh does (PrometheusSource.query_parsed: the
    model builds from its rows), first with nothing memoised (a new server: every series parsed) then in a
    steady mesh (the same series again, new values); of building the graph from the parsed rows, as a rates
    refresh does
    (the view's plan reused, the percentiles grouped once per percentile query, on their slower cadence), as the
    first build after a percentile query does and as a view's first build does (every edge planned); of the
    wire JSON."""
    series = ParsedSeries()

    def parse() -> tuple[Any, Any]:
        return series.rows(rates_body, rate_head), series.rows(quantiles_body, quantile_head)

    def first_parse() -> Any:
        nonlocal series
        series = ParsedSeries()
        istio_queries.forget_interned()
        return parse()

    parsed_rates, refreshed = parse()  # a snapshot's percentiles: the same rows until their next query
    # each refresh's samples are new objects (new values, the same series): one set per timed build
    refreshes = iter([parse()[0] for _ in range(3 * repeat + 1)])

    def build(quantiles: tuple[Any, ...] = refreshed) -> Any:
        return build_topology(GRAPH, next(refreshes), quantiles, as_of=time.time(), window_s=WINDOW_S)

    def first_build() -> Any:
        forget_plans()
        return build()

    built = build()
    return {
        "rate_samples": len(parsed_rates.values),
        "quantile_samples": len(refreshed.values),
        "answer_bytes": len(rates_body) + len(quantiles_body),
        "edges": built.graph.number_of_edges(),
        "nodes": built.graph.number_of_nodes(),
        "parse_json_ms": cpu_ms(lambda: (json.loads(rates_body), json.loads(quantiles_body)), repeat),
        "parse_first_ms": cpu_ms(first_parse, repeat),
        "parse_all_ms": cpu_ms(parse, repeat),
        "build_ms": cpu_ms(build, repeat),
        "build_with_percentiles_ms": cpu_ms(lambda: build(Rows(*refreshed)), repeat),
        "build_first_ms": cpu_ms(first_build, repeat),
        "wire_ms": cpu_ms(lambda: topology_to_json(built), repeat),
        "wire_bytes": len(topology_to_json(built)),
    }


def service(stack: LiveStack) -> tuple[TopologyService, SelfMetrics]:
    """observe's real services over the stack's Prometheus. refresh_s=0: every request is one whole refresh.
    Percentiles: fetched by the first refresh, then on their own cadence (RefreshPolicy's 30 s); the timed
    refreshes here are shorter than that, so they are the rates refreshes every viewer waits for."""
    metrics = SelfMetrics()
    policy = RefreshPolicy(refresh_s=0.0, query_timeout_s=30.0, percentile_refresh_s=3600.0)
    source = PrometheusSource(stack.url, on_answer=metrics.prometheus_seconds.observe)
    return TopologyService(SnapshotCache(source, policy, metrics)), metrics


async def first_refresh(topology: tuple[TopologyService, SelfMetrics]) -> float:
    """The first refresh of a view (rates and percentiles); its PromQL query count."""
    await topology[0].wire(TopologyRequest(GRAPH, frozenset(), WINDOW_S))
    return _queries(topology[1])


def _queries(metrics: SelfMetrics) -> float:
    return sum(metrics.registry.get_sample_value("observe_promql_queries_total", {"kind": k}) or 0.0
               for k in ("rates", "quantiles"))  # fmt: skip


async def plans(
    stack: LiveStack, topology: tuple[TopologyService, SelfMetrics], selections: dict[str, list[str]],
    refreshes: int, kiali_budget_s: float,
) -> Figures:  # fmt: skip
    """`topology` has had its first refresh (rates + percentiles: 2 queries); each selection then refreshes."""
    service, metrics = topology
    out: Figures = {}
    for label, namespaces in selections.items():
        request = TopologyRequest(GRAPH, frozenset(namespaces), WINDOW_S)
        before = _queries(metrics)
        for _ in range(refreshes):
            await service.wire(request)
        ours = stack.raw_query(_view().rates_query)[0]
        kiali = kiali_plan(namespaces, int(WINDOW_S))
        timed, begin = 0, time.perf_counter()
        while timed < len(kiali) and time.perf_counter() - begin < kiali_budget_s:
            stack.raw_query(kiali[timed])
            timed += 1
        out[label] = {
            "namespaces": len(namespaces),
            "observe_queries_per_refresh": (_queries(metrics) - before) / refreshes,
            "kiali_queries_per_refresh": len(kiali),
            "observe_plan_s": ours,  # the rates query; percentiles come on their slower cadence
            "kiali_plan_s": (time.perf_counter() - begin) * len(kiali) / max(timed, 1),
            "kiali_queries_timed": timed,
        }
    return out


async def _with_lag(work: Callable[[], Awaitable[None]]) -> list[float]:
    """Run `work` beside a 10 ms ticker; each tick's lateness is the event loop's lag."""
    loop, lags, done = asyncio.get_running_loop(), [], asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            begin = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - begin - 0.01)

    task = asyncio.create_task(ticker())
    try:
        await work()
    finally:
        done.set()
        await task
    return lags


async def refresh(topology: tuple[TopologyService, SelfMetrics], refreshes: int) -> Figures:
    """Refreshes back to back. Prometheus's part of each is the answer time observe's source measured for its
    query (sent → body read: observe_prometheus_answer_seconds), so the overhead is everything else: decoding,
    parsing, building, the wire and its JSON, the hops between threads, and waiting for a core. Our CPU: this
    process's CPU time per refresh (the exporter and Prometheus run apart), which the cores' contention does
    not inflate."""
    service, metrics = topology
    request = TopologyRequest(GRAPH, frozenset(), WINDOW_S)
    ours: list[float] = []
    prometheus: list[float] = []
    cpu: list[float] = []
    begin_s = time.time()

    def answered() -> float:
        return metrics.registry.get_sample_value("observe_prometheus_answer_seconds_sum") or 0.0

    async def loop() -> None:
        for _ in range(refreshes):
            waited, begin, begin_cpu = answered(), time.perf_counter(), time.process_time()
            await service.wire_json(request)  # as the API handler: built and serialised off the loop
            ours.append(time.perf_counter() - begin)
            cpu.append(time.process_time() - begin_cpu)
            prometheus.append(answered() - waited)

    lags = await _with_lag(loop)
    overhead = [o - p for o, p in zip(ours, prometheus, strict=True)]
    return {
        "refreshes": refreshes,
        "refresh_p95_s": quantile(ours, 0.95),
        "refresh_median_s": quantile(ours, 0.5),
        "prometheus_p95_s": quantile(prometheus, 0.95),
        "prometheus_median_s": quantile(prometheus, 0.5),
        "overhead_p95_s": quantile(overhead, 0.95),
        "overhead_median_s": quantile(overhead, 0.5),
        "cpu_p95_s": quantile(cpu, 0.95),
        "cpu_median_s": quantile(cpu, 0.5),
        "ratio_median": quantile(ours, 0.5) / quantile(prometheus, 0.5),
        "loop_lag_p99_ms": quantile(lags, 0.99) * 1000,
        "loop_lag_max_ms": max(lags, default=math.nan) * 1000,
        "run_s": time.time() - begin_s,
    }


def p99_path(stack: LiveStack, repeat: int = 3, timeout_s: float = 60.0) -> Figures:
    """The percentile query from raw buckets and, when the stack has them, from the recording rules."""
    out: Figures = {}
    for label, rules in (("raw", False), ("rules", True)):
        if rules and not stack.rules:
            continue
        runs, body = [], b""
        for _ in range(repeat):
            begin = time.perf_counter()
            try:
                seconds, body = stack.raw_query(_view(rules).quantiles_query, timeout_s=timeout_s)
            except requests.HTTPError as exc:
                if not _timed_out(exc):
                    raise
                out[f"{label}_timed_out_after_s"] = time.perf_counter() - begin
                break
            runs.append(seconds)
        out[f"{label}_median_s"] = quantile(runs, 0.5)
        out[f"{label}_samples"] = len(json.loads(body)["data"]["result"]) if body else 0
    return out
