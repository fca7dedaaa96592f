"""Backoff per source, with an injected monotonic clock and jitter: timing is asserted exactly, never waited for."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import generate_latest

from observe.errors import QueryRejected, SourceUnavailable
from observe.model.ids import GraphType
from observe.model.samples import VectorSample
from observe.services.backoff import Backoff, BackoffPolicy, GuardedMetricsSource
from observe.services.refresh import RefreshPolicy, SnapshotCache
from observe.services.telemetry import SelfMetrics
from observe.services.topology import TopologyRequest, TopologyService
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.bookinfo_samples import bookinfo_rates


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def guarded(source: FakeMetricsSource, clock: Clock, rand: float = 0.5, cap_s: float = 8.0) -> GuardedMetricsSource:
    backoff = Backoff(source.name, BackoffPolicy(base_s=1.0, factor=2.0, cap_s=cap_s), SelfMetrics(),
                      monotonic=clock, clock=clock, rand=lambda: rand)  # fmt: skip
    return GuardedMetricsSource(source, backoff)  # type: ignore[arg-type]


@pytest.mark.parametrize(("failures", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (4, 4.0, 8.0), (9, 4.0, 8.0)])
def test_delay_grows_exponentially_with_equal_jitter_and_a_cap(failures: int, low: float, high: float) -> None:
    policy = BackoffPolicy(base_s=1.0, factor=2.0, cap_s=8.0)
    assert policy.delay(failures, 0.0) == low
    assert policy.delay(failures, 0.999999) == pytest.approx(high)


async def _fails(source: GuardedMetricsSource) -> str:
    with pytest.raises(SourceUnavailable) as err:
        await source.query("up", 1.0, 1.0)
    return err.value.message


async def test_a_dead_source_is_probed_once_per_delay_and_reset_on_success() -> None:
    fake, clock = FakeMetricsSource(fail="cannot connect to http://prom: Connection refused"), Clock()
    source = guarded(fake, clock)  # rand 0.5: delays 0.75, 1.5, 3, 6, 6 …
    assert await _fails(source) == "cannot connect to http://prom: Connection refused"
    for _ in range(5):  # refused without touching the source
        assert "Connection refused (retried in 0.8s)" in await _fails(source)
    assert len(fake.calls) == 1
    expected_delays = [1.5, 3.0, 6.0, 6.0]
    for delay in expected_delays:
        clock.now = source.backoff.health.retry_at  # the probe is let through …
        await _fails(source)
        assert source.backoff.health.retry_at - clock.now == delay  # … and fails: a longer wait, capped
    assert len(fake.calls) == 1 + len(expected_delays)
    fake.fail = None
    clock.now = source.backoff.health.retry_at
    assert await source.query("up", 1.0, 1.0) == []
    assert source.backoff.health.up and source.backoff.health.last_success == clock.now
    fake.fail = "timeout after 1s"
    await _fails(source)
    assert source.backoff.health.retry_at - clock.now == 0.75  # back to the first delay
    text = generate_latest(source.backoff.metrics.registry).decode()
    assert 'observe_source_calls_total{outcome="skipped",source="prometheus"} 5.0' in text
    assert 'observe_source_calls_total{outcome="error",source="prometheus"} 6.0' in text
    assert 'observe_source_up{source="prometheus"} 0.0' in text


async def test_after_the_delay_one_call_probes_and_concurrent_ones_are_refused() -> None:
    fake, clock = FakeMetricsSource(fail="timeout after 1s", delay_s=0.05), Clock()
    source = guarded(fake, clock)
    await _fails(source)
    clock.now = source.backoff.health.retry_at
    answers = await asyncio.gather(*(source.query("up", 1.0, 1.0) for _ in range(5)), return_exceptions=True)
    assert len(fake.calls) == 2  # the first failure and one probe
    messages = sorted(str(a) for a in answers)
    assert messages == ["timeout after 1s"] + ["timeout after 1s (being retried)"] * 4


class RejectingSource(FakeMetricsSource):
    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        self.calls.append((promql, at))
        raise QueryRejected(self.name, "Prometheus answered HTTP 422 (execution): too many samples")


async def test_a_rejected_query_does_not_back_off() -> None:
    fake, clock = RejectingSource(), Clock()
    source = guarded(fake, clock)
    for _ in range(3):
        with pytest.raises(QueryRejected):
            await source.query("up", 1.0, 1.0)
    assert len(fake.calls) == 3 and source.backoff.health.up


async def test_readiness_probe_is_not_sent_while_backing_off() -> None:
    fake, clock = FakeMetricsSource(fail="timeout after 1s"), Clock()
    source = guarded(fake, clock)
    await _fails(source)
    fake.ready_answer = True
    assert not await source.ready(1.0)
    clock.now = source.backoff.health.retry_at
    assert await source.ready(1.0)
    assert source.backoff.describe()["state"] == "down"  # only a successful query clears the failure


async def test_backing_off_serves_the_last_good_topology_stale_naming_source_and_reason() -> None:
    fake, clock = FakeMetricsSource(rates=bookinfo_rates()), Clock()
    source = guarded(fake, clock, cap_s=10.0)
    topology = TopologyService(SnapshotCache(source, RefreshPolicy(refresh_s=10), clock=clock))  # type: ignore[arg-type]
    request = TopologyRequest(GraphType.VERSIONED_APP, frozenset(), 60.0)
    good = await topology.wire(request)
    assert good["stale"] is False and len(good["edges"]) == 7
    fake.fail = "cannot connect to http://prom: Connection refused"
    clock.now += 10
    first = await topology.wire(request)  # the refresh fails: last good, stale
    calls = len(fake.calls)
    clock.now += 0.4  # shorter than the first delay (0.5 … 1 s): the next refresh does not reach the source
    topology.snapshots.policy = RefreshPolicy(refresh_s=0.1)
    second = await topology.wire(request)
    assert len(fake.calls) == calls
    for answer in (first, second):
        assert answer["stale"] is True and len(answer["edges"]) == 7 and answer["as_of"] == good["as_of"]
        [missing] = answer["missing"]  # percentiles are not due yet: only the rates were asked for
        assert missing["source"] == "prometheus" and missing["error"].startswith("rates: cannot connect")
    assert "retried in" in second["missing"][0]["error"]
