"""FakeMetricsSource: an in-memory MetricsSource that answers queries from canned vectors and counts calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from observe.errors import SourceUnavailable
from observe.model.samples import RangeSeries, Rows, VectorSample
from observe.sources.istio_queries import KEY_LABEL, keyed_labels

H = TypeVar("H")
Answer = Callable[[str, float], list[VectorSample]]


@dataclass
class FakeMetricsSource:
    """Answers `rates` queries (no histogram_quantile) and `quantiles` queries from the given vectors."""

    rates: list[VectorSample] = field(default_factory=list)
    quantiles: list[VectorSample] = field(default_factory=list)
    delay_s: float = 0.0
    fail: str | None = None  # an error message makes every query fail with it
    fail_quantiles: str | None = None
    range_rates: list[RangeSeries] = field(default_factory=list)
    range_quantiles: list[RangeSeries] = field(default_factory=list)
    ready_answer: bool = True
    calls: list[tuple[str, float]] = field(default_factory=list)
    name: str = "prometheus"
    url: str = "http://fake-prometheus"

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        self.calls.append((promql, at))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        is_quantile = "histogram_quantile" in promql
        if self.fail or (is_quantile and self.fail_quantiles):
            raise SourceUnavailable(self.name, (self.fail or self.fail_quantiles) or "")
        samples = self.quantiles if is_quantile else self.rates
        if KEY_LABEL in promql:  # a keyed query: the labels as Prometheus would join them
            keep = ("quantile",) if is_quantile else ()
            return [VectorSample(keyed_labels(s.labels, keep), s.value) for s in samples]
        return list(samples)

    async def query_parsed(
        self, promql: str, at: float, timeout_s: float, parse: Callable[[dict[str, str]], H | None]
    ) -> Rows[H]:
        samples = await self.query(promql, at, timeout_s)
        parsed = [(head, s.value) for s in samples if (head := parse(s.labels)) is not None]
        return Rows([head for head, _ in parsed], [value for _, value in parsed])

    async def query_range(
        self, promql: str, start: float, end: float, step_s: float, timeout_s: float
    ) -> list[RangeSeries]:
        self.calls.append((promql, end))
        if self.fail:
            raise SourceUnavailable(self.name, self.fail)
        return list(self.range_quantiles if "histogram_quantile" in promql else self.range_rates)

    async def ready(self, timeout_s: float) -> bool:
        return self.ready_answer

    async def close(self) -> None:
        return None

    def count(self, kind: str) -> int:
        return sum(1 for q, _ in self.calls if ("histogram_quantile" in q) == (kind == "quantiles"))
