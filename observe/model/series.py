"""Time series of one edge or one node, folded point by point with the same rules as the topology.

A range answer is pivoted into one instant vector per timestamp; each instant is mapped to edges exactly as
`build_topology` maps a snapshot (same node rules, same reporter dedup), so a series point and the topology at
that instant agree. A node's series is the sum of its inbound edges; its percentiles come from the node's
merged inbound histogram, queried apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from observe.model.edge_stats import EdgeStats, fold_rates
from observe.model.ids import GraphType, NodeKey
from observe.model.samples import LatencyQuantile, RangeSeries, RequestRate, VectorSample
from observe.model.topology import EdgeKey, group_rates, quantile_edge

Point = tuple[float, float | None]


def pivot(series: Iterable[RangeSeries]) -> dict[float, list[VectorSample]]:
    """Range series → {timestamp: the instant vector at that timestamp}."""
    by_time: dict[float, list[VectorSample]] = defaultdict(list)
    for s in series:
        for t, value in s.points:
            by_time[t].append(VectorSample(s.labels, value))
    return dict(sorted(by_time.items()))


@dataclass
class SeriesSet:
    """Named series of (t, value) points; a value is None where it is undefined (no requests)."""

    series: dict[str, list[Point]] = field(default_factory=lambda: defaultdict(list))
    responses: dict[str, list[Point]] = field(default_factory=lambda: defaultdict(list))
    flags: dict[str, list[Point]] = field(default_factory=lambda: defaultdict(list))

    def add_stats(self, t: float, stats: EdgeStats | None) -> None:
        self.series["rps"].append((t, stats.rps if stats else 0.0))
        self.series["success_rate"].append((t, stats.success_rate if stats else None))
        self.series["error_rate_5xx"].append((t, stats.error_rate_5xx if stats else None))
        for code, value in (stats.responses if stats else {}).items():
            self.responses[code].append((t, value))
        for flag, value in (stats.flags if stats else {}).items():
            self.flags[flag].append((t, value))

    def densify(self) -> None:
        """Codes and flags absent at a timestamp had a rate of 0 then: fill them so every series has every t."""
        times = [t for t, _ in self.series.get("rps", [])]
        for by_name in (self.responses, self.flags):
            for name, points in by_name.items():
                known = dict(points)
                by_name[name] = [(t, known.get(t, 0.0)) for t in times]

    def add_quantiles(self, points: dict[float, dict[float, float]], times: Iterable[float]) -> None:
        for t in times:
            at_t = points.get(t, {})
            for q, name in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
                value = at_t.get(q)
                self.series[name].append((t, value if value is not None and value == value else None))


def _sum_stats(stats: list[EdgeStats]) -> EdgeStats:
    responses: dict[str, float] = defaultdict(float)
    flags: dict[str, float] = defaultdict(float)
    for s in stats:
        for code, v in s.responses.items():
            responses[code] += v
        for flag, v in s.flags.items():
            flags[flag] += v
    protocols = {s.protocol for s in stats}
    return EdgeStats(sum(responses.values()), dict(responses), dict(flags),
                     protocols.pop() if len(protocols) == 1 else "mixed",
                     frozenset().union(*(s.reporters for s in stats)))  # fmt: skip


def traffic_series(
    instants: dict[float, list[RequestRate]], graph: GraphType, select: Callable[[EdgeKey], bool]
) -> SeriesSet:
    """Per timestamp, the summed stats of the edges `select` keeps."""
    out = SeriesSet()
    for t, rates in instants.items():
        grouped = group_rates(rates, graph)
        chosen = [fold_rates(edge_rates) for key, edge_rates in grouped.items() if select(key)]
        out.add_stats(t, _sum_stats(chosen) if chosen else None)
    out.densify()
    return out


def edge_selector(source: NodeKey, target: NodeKey) -> Callable[[EdgeKey], bool]:
    return lambda key: key == (source, target)


def inbound_selector(node: NodeKey) -> Callable[[EdgeKey], bool]:
    return lambda key: key[1] == node


def quantile_points(
    instants: dict[float, list[LatencyQuantile]], graph: GraphType, select: Callable[[EdgeKey], bool] | None
) -> dict[float, dict[float, float]]:
    """Per timestamp, {quantile: value} of the group the selection keeps (None: keep every group)."""
    out: dict[float, dict[float, float]] = {}
    for t, samples in instants.items():
        for sample in samples:
            if select is None or select(quantile_edge(sample, graph)):
                out.setdefault(t, {})[sample.quantile] = sample.value_ms
    return out
