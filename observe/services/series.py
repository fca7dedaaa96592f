"""Range use case: the time series of one edge or one node over a window, for side panels and incident review.

Two range queries per answer (rates, and the three percentiles unioned), narrowed by label matchers built from
the node ids (escaped like every value). Each point's rate window is max(step, min_rate_window) so no point
reads less than a few scrapes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from observe.errors import BadQuery, NotFound, SourceUnavailable
from observe.model.ids import GraphType, NodeKey
from observe.model.samples import RangeSeries
from observe.model.series import (
    Point,
    SeriesSet,
    edge_selector,
    inbound_selector,
    pivot,
    quantile_points,
    traffic_series,
)
from observe.services.telemetry import SelfMetrics
from observe.sources.istio_queries import (
    destination_identity,
    node_matchers,
    parse_quantiles,
    parse_rates,
    quantiles_query,
    rates_query,
)
from observe.sources.ports import MetricsSource

MAX_POINTS = 1000


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    graph: GraphType
    window_s: float
    at: float | None
    step_s: float | None
    source: NodeKey | None = None  # an edge: source and target
    target: NodeKey | None = None
    node: NodeKey | None = None  # or a node: its inbound traffic


@dataclass
class SeriesService:
    metrics_source: MetricsSource
    query_timeout_s: float = 5.0
    min_rate_window_s: float = 60.0
    metrics: SelfMetrics = field(default_factory=SelfMetrics)
    clock: Callable[[], float] = time.time

    def _step(self, request: SeriesRequest) -> float:
        step = request.step_s or max(1.0, round(request.window_s / 60))
        if request.window_s / step > MAX_POINTS:
            raise BadQuery(f"step {step:g}s gives more than {MAX_POINTS} points over the window", field="step")
        return step

    async def _range(self, kind: str, promql: str, start: float, end: float, step: float) -> list[RangeSeries]:
        self.metrics.queries.labels(kind).inc()
        try:
            return await self.metrics_source.query_range(promql, start, end, step, self.query_timeout_s)
        except SourceUnavailable:
            self.metrics.source_errors.labels(self.metrics_source.name).inc()
            raise

    async def series(self, request: SeriesRequest) -> dict[str, Any]:
        end = request.at if request.at is not None else self.clock()
        step = self._step(request)
        start = end - request.window_s
        rate_window = max(step, self.min_rate_window_s)
        if request.node is not None:
            matchers, select = node_matchers(request.node, "destination"), inbound_selector(request.node)
            by: tuple[str, ...] | None = destination_identity(request.graph)
        else:
            assert request.source is not None and request.target is not None
            matchers = node_matchers(request.source, "source") + node_matchers(request.target, "destination")
            select, by = edge_selector(request.source, request.target), None
        rates, quantiles = await asyncio.gather(
            self._range("series_rates", rates_query(request.graph, rate_window, matchers), start, end, step),
            self._range("series_quantiles", quantiles_query(request.graph, rate_window, matchers, by), start, end,
                        step),
            return_exceptions=True,
        )  # fmt: skip
        missing = [
            {"source": e.source, "error": f"{what}: {e.message}"}
            for what, e in (("rates", rates), ("percentiles", quantiles))
            if isinstance(e, SourceUnavailable)
        ]
        for result in (rates, quantiles):
            if isinstance(result, BaseException) and not isinstance(result, SourceUnavailable):
                raise result
        out = SeriesSet()
        if isinstance(rates, list):
            instants = {t: parse_rates(v) for t, v in pivot(rates).items()}
            out = traffic_series(instants, request.graph, select)
            if not any(v for _, v in out.series.get("rps", [])):
                raise NotFound(f"no requests on {self._subject(request)} between {start:.0f} and {end:.0f}",
                               field="node" if request.node else "source")  # fmt: skip
        if isinstance(quantiles, list):
            q_instants = {t: parse_quantiles(v) for t, v in pivot(quantiles).items()}
            times = [t for t, _ in out.series.get("rps", [])] or list(q_instants)
            out.add_quantiles(quantile_points(q_instants, request.graph, select), times)
        return self._wire(request, out, start, end, step, rate_window, missing)

    @staticmethod
    def _subject(request: SeriesRequest) -> str:
        if request.node is not None:
            return f"node {request.node.id}"
        assert request.source is not None and request.target is not None
        return f"edge {request.source.id} -> {request.target.id}"

    @staticmethod
    def _wire(request: SeriesRequest, out: SeriesSet, start: float, end: float, step: float, rate_window: float,
              missing: list[dict[str, str]]) -> dict[str, Any]:  # fmt: skip
        def points(values: list[Point]) -> list[list[float | None]]:
            return [[t, None if v is None else round(v, 6)] for t, v in values]

        subject: dict[str, Any] = (
            {"node": request.node.id} if request.node is not None
            else {"source": request.source.id if request.source else None,
                  "target": request.target.id if request.target else None}
        )  # fmt: skip
        return {
            **subject,
            "graph": request.graph.value,
            "start": start,
            "end": end,
            "step_s": step,
            "rate_window_s": rate_window,
            "series": {name: points(v) for name, v in out.series.items()},
            "responses": {code: points(v) for code, v in sorted(out.responses.items())},
            "flags": {flag: points(v) for flag, v in sorted(out.flags.items())},
            "missing": missing,
        }
