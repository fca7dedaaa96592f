"""Merge of trace statistics into a metrics topology (DESIGN §5), and the disagreements between them.

Metrics stay authoritative for rps and success rate (they count every request); traces add exact percentiles,
the sampled count and exemplar trace ids. An edge seen only in traces (an uninstrumented peer, a service outside
the mesh) is added and marked. Disagreements are flagged, each only with enough samples to mean something:
- p99: the trace P99 lies outside the histogram P99's bucket widened by P99_SLACK either way and by P99_ABS_MS
  (client spans include the caller's HTTP stack and the network hop: on a sub-millisecond service that alone
  puts the trace P99 several buckets above the server-side one, which is not a finding);
- error rate: the trace error rate is more than ERROR_Z standard errors and ERROR_GAP from the metric one,
  which points at biased sampling or spans that do not see the same failures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from observe.model.edge_stats import EdgeStats
from observe.model.topology import EdgeKey, Topology, add_node
from observe.model.trace_stats import EdgeTraceStats

P99_SLACK = 1.5
P99_ABS_MS = 5.0
MIN_P99_SAMPLES = 100
ERROR_Z = 4.0
ERROR_GAP = 0.02
NO_METRICS = EdgeStats(0.0, {}, {}, "unknown", frozenset())


@dataclass(frozen=True, slots=True)
class Disagreement:
    kind: str  # trace_only | p99 | error_rate
    message: str


def merge_traces(topology: Topology, stats: Mapping[EdgeKey, EdgeTraceStats], covered_s: float) -> Topology:
    """`covered_s`: the seconds the trace statistics really cover, so a trace count becomes a rate."""
    traces = {(src.id, dst.id): s for (src, dst), s in stats.items()}
    only_in_traces = [(src, dst) for src, dst in stats if not topology.graph.has_edge(src.id, dst.id)]
    if not only_in_traces:
        return replace(topology, traces=traces, trace_window_s=covered_s)
    graph = topology.graph.copy()  # the metrics topology is shared between requests (frozen): never mutate it
    for src, dst in only_in_traces:
        add_node(graph, src)
        add_node(graph, dst)
        graph.add_edge(src.id, dst.id)
    metrics = {**topology.stats, **{(src.id, dst.id): NO_METRICS for src, dst in only_in_traces}}
    return replace(topology, graph=graph, stats=metrics, traces=traces, trace_window_s=covered_s, columns=None)


def disagreements(metrics: EdgeStats, trace: EdgeTraceStats | None) -> list[Disagreement]:
    if trace is None:
        return []
    if metrics is NO_METRICS or not metrics.reporters:
        return [Disagreement("trace_only", "seen in traces only: no Istio metrics for this edge (no sidecar?)")]
    out = []
    p99 = metrics.percentiles.get(0.99)
    if p99 is not None and trace.count >= MIN_P99_SAMPLES:
        low, high = p99.lower_ms / P99_SLACK - P99_ABS_MS, p99.upper_ms * P99_SLACK + P99_ABS_MS
        if not low <= trace.p99_ms <= high:
            out.append(Disagreement("p99", f"trace P99 {trace.p99_ms:.1f} ms is outside the histogram's bucket "
                                           f"[{p99.lower_ms:g}, {p99.upper_ms:g}] ms"))  # fmt: skip
    metric_errors = 1.0 - metrics.success_rate if metrics.success_rate is not None else None
    if metric_errors is not None and trace.count:
        gap = trace.error_rate - metric_errors
        se = math.sqrt(max(metric_errors * (1 - metric_errors), 1 / trace.count) / trace.count)
        if abs(gap) > ERROR_GAP and abs(gap) / se > ERROR_Z:
            message = f"trace error rate {trace.error_rate:.1%} vs metrics {metric_errors:.1%}"
            out.append(Disagreement("error_rate", f"{message} over {trace.count} traced requests"))
    return out
