"""Accuracy figures: the trace P99 (DDSketch per edge, observe.model.trace_stats) against the exact P99 of the
same client-span durations; and whether each histogram P99's reported bucket holds the true P99 of the
synthetic mesh's latency distribution (a log-normal per edge, known exactly)."""

from __future__ import annotations

import math
import time
from collections import defaultdict

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from benchmarks.ingest import build_request
from benchmarks.timing import quantile
from observe.demo.synthetic import LATENCY_SIGMA, SyntheticConfig, draw_edges
from observe.model.edge_stats import Percentile
from observe.model.ids import GraphType
from observe.services.traces import TraceService
from observe.sources.otlp import decode_traces

_Z99 = 2.3263478740408408  # standard normal quantile of 0.99


def trace_p99_error(traces: int = 5000) -> dict[str, float]:
    now = time.time()
    request = build_request(traces, now - 60, seed=7)
    exact: dict[tuple[str, str], list[float]] = defaultdict(list)
    for resource_spans in request.resource_spans:
        caller = resource_spans.resource.attributes[0].value.string_value  # service.name, set first
        for span in resource_spans.scope_spans[0].spans:
            if span.kind == Span.SPAN_KIND_CLIENT:
                callee = span.name.removeprefix("GET ")
                exact[caller, callee].append((span.end_time_unix_nano - span.start_time_unix_nano) / 1e6)
    service = TraceService(clock=lambda: now)
    service.ingest(decode_traces(request.SerializeToString(), "application/x-protobuf").spans, origin="bench")
    errors = []
    for (src, dst), stats in service.edge_stats(GraphType.APP, now - 3600, now + 60).items():
        truth = quantile(exact[src.app, dst.app], 0.99)
        errors.append(abs(stats.p99_ms - truth) / truth)
    return {"edges": len(errors), "requests_per_edge": traces, "max_relative_error": max(errors)}


def histogram_p99_in_bounds(config: SyntheticConfig, estimates: dict[tuple[str, str], float]) -> dict[str, int]:
    """`estimates`: (source app, destination app) → histogram_quantile's P99 in ms. Counts the edges whose
    estimate lies inside the bucket observe reports for it (the target: always), and those whose true P99 lies
    there too (not always: a 1m window of a slow edge holds few requests, so integer bucket counts can move the
    estimate one bucket off when the true P99 is near a bound)."""
    inside = truth_inside = total = 0
    for edge in draw_edges(config):
        estimate = estimates.get((f"svc-{edge.caller}", f"svc-{edge.callee}"))
        if estimate is not None:
            p = Percentile.estimate(estimate)
            truth = edge.median_ms * math.exp(LATENCY_SIGMA * _Z99)
            inside += p.lower_ms <= p.value_ms <= p.upper_ms
            truth_inside += p.lower_ms <= truth <= p.upper_ms
            total += 1
    return {"edges": total, "estimate_inside_bucket": inside, "true_p99_inside_bucket": truth_inside}
