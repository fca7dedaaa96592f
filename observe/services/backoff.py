"""Backoff per source: a dead or overloaded backend is not hammered, and says why it is being spared.

`GuardedMetricsSource` and `GuardedTraceSource` wrap a source. After a call fails with SourceUnavailable
(connection refused, timeout, HTTP 5xx), calls are refused at once, without touching the backend, until a delay
has passed; the first call after it is the probe. Delays grow exponentially per consecutive failure with "equal jitter"
(half fixed, half random, so replicas that failed together do not retry together) and are capped; one success
resets them. Only one call probes at a time; the others are refused until it ends. A refused call raises
SourceUnavailable naming the last failure and the retry time, so the refresh keeps serving the last good
snapshot with that reason in `missing`.

A refusal — QueryRejected (too many samples, a bad expression), NotFound, BadQuery — is an answer: the source is
alive, the error passes through and no backoff starts; other queries still work.

The cap is the source's own cadence (the refresh interval for Prometheus, the poll interval for Jaeger): a dead
source then costs one probe per refresh instead of every view's queries plus every user request, and a source
that comes back is seen within one refresh.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from observe.errors import ObserveError, QueryRejected, SourceUnavailable
from observe.model.samples import RangeSeries, Rows, VectorSample
from observe.model.spans import SpanRecord
from observe.services.telemetry import SelfMetrics
from observe.sources.ports import MetricsSource, TraceSource

T = TypeVar("T")
H = TypeVar("H")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackoffPolicy:
    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 10.0

    def delay(self, failures: int, rand: float) -> float:
        """Delay after `failures` consecutive failures (≥ 1); `rand` uniform in [0, 1)."""
        ceiling = min(self.cap_s, self.base_s * self.factor ** (failures - 1))
        return ceiling / 2 + ceiling / 2 * rand


@dataclass
class SourceHealth:
    """What /readyz and the refused calls report about one source."""

    failures: int = 0
    last_error: str = ""
    retry_at: float = 0.0  # monotonic clock
    last_success: float | None = None  # wall clock

    @property
    def up(self) -> bool:
        return self.failures == 0


@dataclass
class Backoff:
    """The state machine of one source (Prometheus, Jaeger); logs when the source goes down and comes back."""

    source: str
    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    metrics: SelfMetrics = field(default_factory=SelfMetrics)
    monotonic: Callable[[], float] = time.monotonic
    clock: Callable[[], float] = time.time
    rand: Callable[[], float] = random.random
    health: SourceHealth = field(default_factory=SourceHealth)
    _probing: bool = field(default=False, init=False)

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        now, h = self.monotonic(), self.health
        if h.failures and (now < h.retry_at or self._probing):
            self.metrics.source_calls.labels(self.source, "skipped").inc()
            when = f"retried in {h.retry_at - now:.1f}s" if now < h.retry_at else "being retried"
            raise SourceUnavailable(self.source, f"{h.last_error} ({when})")
        self._probing = h.failures > 0  # after the delay one call probes; the others are refused until it ends
        try:
            result = await fn()
        except ObserveError as exc:
            # A refusal (too many samples, not found, bad query) is an answer: the source is alive.
            answered = isinstance(exc, QueryRejected) or not isinstance(exc, SourceUnavailable)
            self.metrics.source_calls.labels(self.source, "rejected" if answered else "error").inc()
            if answered:
                self._succeeded()
            else:
                self._failed(exc.message)
            raise
        finally:
            self._probing = False
        self.metrics.source_calls.labels(self.source, "ok").inc()
        self._succeeded()
        return result

    def _failed(self, error: str) -> None:
        h = self.health
        if h.up:
            log.warning("%s failed, backing off: %s", self.source, error)
        h.failures += 1
        h.last_error = error
        h.retry_at = self.monotonic() + self.policy.delay(h.failures, self.rand())
        self.metrics.source_up.labels(self.source).set(0)

    def _succeeded(self) -> None:
        if not self.health.up:
            log.info("%s is answering again after %d failed calls", self.source, self.health.failures)
        self.health = SourceHealth(last_success=self.clock())
        self.metrics.source_up.labels(self.source).set(1)

    def describe(self) -> dict[str, Any]:
        h = self.health
        out: dict[str, Any] = {"state": "up" if h.up else "down", "last_success": h.last_success}
        if not h.up:
            out |= {"error": h.last_error, "consecutive_failures": h.failures,
                    "retry_in_s": round(max(0.0, h.retry_at - self.monotonic()), 3)}  # fmt: skip
        return out


class GuardedMetricsSource:
    """A MetricsSource whose calls go through a Backoff; everything else is the wrapped source's."""

    def __init__(self, inner: MetricsSource, backoff: Backoff) -> None:
        self.inner = inner
        self.backoff = backoff
        self.name = inner.name
        self.url: str = getattr(inner, "url", "?")

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        return await self.backoff.call(lambda: self.inner.query(promql, at, timeout_s))

    async def query_parsed(
        self, promql: str, at: float, timeout_s: float, parse: Callable[[dict[str, str]], H | None]
    ) -> Rows[H]:
        return await self.backoff.call(lambda: self.inner.query_parsed(promql, at, timeout_s, parse))

    async def query_range(
        self, promql: str, start: float, end: float, step_s: float, timeout_s: float
    ) -> list[RangeSeries]:
        return await self.backoff.call(lambda: self.inner.query_range(promql, start, end, step_s, timeout_s))

    async def ready(self, timeout_s: float) -> bool:
        if not self.backoff.health.up and self.backoff.monotonic() < self.backoff.health.retry_at:
            return False
        return await self.inner.ready(timeout_s)

    async def close(self) -> None:
        await self.inner.close()


class GuardedTraceSource:
    """A TraceSource whose calls go through a Backoff (NotFound and BadQuery pass through untouched)."""

    def __init__(self, inner: TraceSource, backoff: Backoff) -> None:
        self.inner = inner
        self.backoff = backoff
        self.name = inner.name
        self.url: str = getattr(inner, "url", "?")

    async def services(self, timeout_s: float) -> list[str]:
        return await self.backoff.call(lambda: self.inner.services(timeout_s))

    async def find_traces(
        self, service: str | None, start_s: float, end_s: float, limit: int, timeout_s: float
    ) -> list[SpanRecord]:
        return await self.backoff.call(lambda: self.inner.find_traces(service, start_s, end_s, limit, timeout_s))

    async def get_trace(self, trace_id: str, timeout_s: float) -> list[SpanRecord]:
        return await self.backoff.call(lambda: self.inner.get_trace(trace_id, timeout_s))

    async def close(self) -> None:
        await self.inner.close()
