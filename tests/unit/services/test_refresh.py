import asyncio

import pytest

from observe.model.ids import GraphType
from observe.services.refresh import RefreshPolicy, SnapshotCache
from observe.services.topology import TopologyRequest, TopologyService
from observe.services.traces import TraceService
from observe.sources.istio_queries import KEY_LABEL
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, bookinfo_rates, rate, side


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def service(source: FakeMetricsSource, clock: Clock, **policy: float) -> TopologyService:
    return TopologyService(SnapshotCache(source, RefreshPolicy(**policy), clock=clock))  # type: ignore[arg-type]


def live(graph: GraphType = GraphType.VERSIONED_APP, ns: frozenset[str] = frozenset()) -> TopologyRequest:
    return TopologyRequest(graph, ns, 60.0)


async def test_concurrent_viewers_share_one_query_set() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates(), delay_s=0.05)
    svc = service(source, Clock())
    namespace_sets = [frozenset(), frozenset({"bookinfo"}), frozenset({f"ns{i}" for i in range(200)})]
    answers = await asyncio.gather(*(svc.wire(live(ns=namespace_sets[i % 3])) for i in range(50)))
    assert source.count("rates") == 1 and source.count("quantiles") == 1
    assert len(answers[0]["edges"]) == 7 and answers[2]["edges"] == []


async def test_viewers_share_one_build_and_one_serialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    clock = Clock()
    traces = TraceService(clock=clock)
    svc = TopologyService(SnapshotCache(source, RefreshPolicy(), clock=clock), traces=traces)  # type: ignore[arg-type]
    renders: list[TopologyRequest] = []
    render = svc._render
    monkeypatch.setattr(svc, "_render", lambda request, *rest: renders.append(request) or render(request, *rest))
    bodies = await asyncio.gather(*(svc.wire_json(live()) for _ in range(50)))
    assert len(renders) == 1 and len(set(bodies)) == 1 and b'"edges":[' in bodies[0]
    traces.generation += 1  # spans arrived: within the same tick the answer is reused…
    await svc.wire_json(live())
    assert len(renders) == 1
    clock.now += svc.trace_refresh_s  # …and rebuilt once the next tick starts
    await svc.wire_json(live())
    assert len(renders) == 2


async def test_only_each_views_newest_answer_is_kept() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    clock = Clock()
    svc = service(source, clock, refresh_s=10)
    views = [live(), live(ns=frozenset({"bookinfo"}))]
    for _ in range(3):  # three refreshes of two views: six answers built, two worth keeping
        for view in views:
            await svc.wire(view)
        clock.now += 11
    assert source.count("rates") == 3
    assert sorted(str(key[0].namespaces) for key in svc._memo) == sorted(str(v.namespaces) for v in views)


async def test_each_graph_type_and_window_is_its_own_view() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    svc = service(source, Clock())
    await svc.wire(live(GraphType.VERSIONED_APP))
    await svc.wire(live(GraphType.VERSIONED_APP, frozenset({"bookinfo"})))
    assert source.count("rates") == 1
    await svc.wire(live(GraphType.APP))
    await svc.wire(TopologyRequest(GraphType.VERSIONED_APP, frozenset(), 300.0))
    assert source.count("rates") == 3


async def test_ttl_and_percentile_cadence() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    clock = Clock()
    svc = service(source, clock, refresh_s=10, percentile_refresh_s=30)
    await svc.wire(live())
    clock.now += 5
    await svc.wire(live())
    assert (source.count("rates"), source.count("quantiles")) == (1, 1)  # fresh: served from cache
    clock.now += 6
    await svc.wire(live())
    assert (source.count("rates"), source.count("quantiles")) == (2, 1)  # rates due, percentiles not yet
    clock.now += 25
    await svc.wire(live())
    assert (source.count("rates"), source.count("quantiles")) == (3, 2)


async def test_failure_serves_last_good_as_stale_with_missing() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    clock = Clock()
    svc = service(source, clock, refresh_s=10)
    good = await svc.wire(live())
    source.fail = "timeout after 5s"
    clock.now += 11
    stale = await svc.wire(live())
    assert stale["stale"] is True
    # percentiles were not due yet (30 s cadence), so only the rates are missing
    assert stale["missing"] == [{"source": "prometheus", "error": "rates: timeout after 5s"}]
    assert stale["edges"] == good["edges"] and stale["as_of"] == good["as_of"]
    source.fail = None
    clock.now += 11
    recovered = await svc.wire(live())
    assert recovered["stale"] is False and recovered["missing"] == [] and recovered["as_of"] == clock.now


async def test_no_data_ever_says_what_is_missing() -> None:
    source = FakeMetricsSource(fail="cannot connect to http://127.0.0.1:1: refused")
    answer = await service(source, Clock()).wire(live())
    assert answer["edges"] == [] and answer["missing"][0]["source"] == "prometheus"
    assert "refused" in answer["missing"][0]["error"]


async def test_dead_source_is_not_hammered_within_ttl() -> None:
    source = FakeMetricsSource(fail="down")
    clock = Clock()
    svc = service(source, clock, refresh_s=10)
    for _ in range(20):
        await svc.wire(live())
    assert source.count("rates") == 1


async def test_percentile_failure_keeps_rates_fresh() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates(), fail_quantiles="timeout after 5s")
    answer = await service(source, Clock()).wire(live())
    assert answer["stale"] is False and len(answer["edges"]) == 7
    assert answer["missing"] == [{"source": "prometheus", "error": "percentiles: timeout after 5s"}]


async def test_history_is_queried_at_the_instant_and_cached() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    svc = service(source, Clock())
    request = TopologyRequest(GraphType.APP, frozenset(), 300.0, at=999_000.0)
    first = await svc.wire(request)
    await svc.wire(request)
    assert {at for _, at in source.calls} == {999_000.0}
    assert source.count("rates") == 1 and first["as_of"] == 999_000.0


async def test_background_refresh_keeps_views_warm_and_forgets_idle_ones() -> None:
    source = FakeMetricsSource(rates=bookinfo_rates())
    clock = Clock()
    cache = SnapshotCache(source, RefreshPolicy(refresh_s=1, idle_timeout_s=3), clock=clock)  # type: ignore[arg-type]
    svc = TopologyService(cache)
    await svc.wire(live())
    task = asyncio.create_task(cache.run_background())
    try:
        clock.now += 1.5
        await asyncio.sleep(0.5)
        assert source.count("rates") == 2  # refreshed without a viewer asking
        clock.now += 10
        await asyncio.sleep(0.5)
        assert cache._live == {}
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_view_whose_label_values_hold_the_key_separator_is_asked_plainly() -> None:
    """Answers come keyed (one label joining the others with '|'); a value holding a '|' cannot be split back,
    so that answer is asked again plainly, and so are the view's next ones: nothing is lost."""
    odd = side("destination", "odd|one-v1", "odd|one", "v1")
    source = FakeMetricsSource(rates=[*bookinfo_rates(), rate(PRODUCTPAGE_SRC, odd, "odd.bookinfo", "200", 4.0)])
    clock = Clock()
    svc = service(source, clock, refresh_s=10)
    for _ in range(2):
        answer = await svc.wire(live())
        assert {e["target"]: e["rps"] for e in answer["edges"]}["bookinfo/odd|one/v1"] == 4.0
        clock.now += 11
    sent = [query for query, _ in source.calls if "histogram_quantile" not in query]
    assert [KEY_LABEL in query for query in sent] == [True, False, False]  # the first, again plainly, the next
