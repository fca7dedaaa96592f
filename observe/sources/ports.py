"""Ports: what the services layer needs from a metrics or trace backend. Fakes implement these in tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from observe.model.samples import RangeSeries, Rows, VectorSample
from observe.model.spans import SpanRecord

H = TypeVar("H")


class MetricsSource(Protocol):
    """A PromQL-speaking backend (Prometheus, Thanos, Mimir, VictoriaMetrics).

    Every call raises observe.errors.SourceUnavailable (source name, reason in words) on failure or timeout,
    and observe.errors.BadQuery when the backend rejects the expression.
    """

    name: str

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]: ...

    async def query_parsed(
        self, promql: str, at: float, timeout_s: float, parse: Callable[[dict[str, str]], H | None]
    ) -> Rows[H]:
        """query(), each sample's labels parsed by `parse` (a sample it maps to None is left out). A source
        may memoise `parse` per series: it must be a pure, module-level function of the labels."""
        ...

    async def query_range(
        self, promql: str, start: float, end: float, step_s: float, timeout_s: float
    ) -> list[RangeSeries]: ...

    async def ready(self, timeout_s: float) -> bool: ...

    async def close(self) -> None: ...


class TraceSource(Protocol):
    """A trace backend that can be searched (Jaeger's query API).

    Every call raises observe.errors.SourceUnavailable (source name, reason in words) on failure or timeout.
    `get_trace` raises BadQuery for a malformed trace id and NotFound for a trace the backend does not have.
    Trace ids are lowercase hex, 32 characters (64-bit ids are left-padded).
    """

    name: str

    async def services(self, timeout_s: float) -> list[str]: ...

    async def find_traces(
        self, service: str | None, start_s: float, end_s: float, limit: int, timeout_s: float
    ) -> list[SpanRecord]: ...

    async def get_trace(self, trace_id: str, timeout_s: float) -> list[SpanRecord]: ...

    async def close(self) -> None: ...
