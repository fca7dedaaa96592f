"""Per-edge trace statistics: sketch accuracy against numpy, slot merging, roll-up, retention, bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from observe.model.ids import GraphType
from observe.model.pairing import PairedRequest
from observe.model.spans import Peer, SpanKind, SpanRecord
from observe.model.trace_stats import TraceStats

CLIENT = SpanRecord(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="00000000000000c1", parent_id=None, kind=SpanKind.CLIENT,
    service="productpage", version="v1", namespace="bookinfo", workload="productpage-v1",
    peer=Peer("reviews", "bookinfo", "", "reviews.bookinfo.svc.cluster.local"), operation="op", start_s=0.0,
    duration_ms=1.0, status_code=200, error=False,
)  # fmt: skip
SERVER = CLIENT._replace(span_id="0000000000000051", parent_id="00000000000000c1", kind=SpanKind.SERVER,
                 service="reviews", version="v2", workload="reviews-v2", peer=None)  # fmt: skip


def request(i: int, start_s: float, latency_ms: float, *, version: str = "v2", error: bool = False) -> PairedRequest:
    client = CLIENT._replace(trace_id=f"{i + 1:032x}", start_s=start_s, duration_ms=latency_ms, error=error,
                     status_code=503 if error else 200)  # fmt: skip
    return PairedRequest.paired(client, [SERVER._replace(trace_id=client.trace_id, version=version,
                                                 workload=f"reviews-{version}")])  # fmt: skip


def test_percentiles_within_one_percent_of_numpy_on_lognormal_samples() -> None:
    rng = np.random.default_rng(20240601)
    latencies = rng.lognormal(mean=math.log(20.0), sigma=0.8, size=10_000)
    stats = TraceStats()
    for i, latency in enumerate(latencies):
        assert stats.add(request(i, 1000.0 + i * 0.03, float(latency)), now=1300.0)
    (edge,) = stats.stats_for(1000.0, 1300.0, GraphType.VERSIONED_APP).values()
    assert edge.count == 10_000 and edge.errors == 0 and edge.error_rate == 0.0
    for q, got in ((50, edge.p50_ms), (95, edge.p95_ms), (99, edge.p99_ms)):
        assert got == pytest.approx(float(np.percentile(latencies, q)), rel=0.01)
    assert stats.counters.slots == 30  # 300 s of requests in 10 s slots


def test_window_takes_the_slots_nearest_to_it_and_merges_them() -> None:
    stats = TraceStats(slot_s=10)
    for i in range(30):  # slots 0, 1, 2 get 10 requests each: latencies 0-9, 10-19, 20-29 ms
        stats.add(request(i, float(i), float(i + 1)), now=30)
    (middle,) = stats.stats_for(10, 20, GraphType.APP).values()
    assert middle.count == 10 and middle.p50_ms == pytest.approx(15.0, rel=0.07)
    (partial,) = stats.stats_for(14, 25, GraphType.APP).values()  # slot 1 starts nearest to 14
    assert partial.count == 20 and stats.covered(14, 25) == (10, 25)
    (half,) = stats.stats_for(16, 25, GraphType.APP).values()  # slot 2 starts nearest to 16
    assert half.count == 10 and stats.covered(16, 25) == (20, 25)
    (everything,) = stats.stats_for(0, 30, GraphType.APP).values()
    assert everything.count == 30
    assert 29.0 * 0.99 <= everything.p99_ms <= 30.0 * 1.01  # between the order statistics around rank 28.7
    assert stats.stats_for(40, 50, GraphType.APP) == {}


def test_finest_identity_rolls_up_to_coarser_graph_types() -> None:
    stats = TraceStats()
    for i in range(10):
        stats.add(request(i, 5.0, 10.0, version="v1"), now=10)
        stats.add(request(100 + i, 5.0, 20.0, version="v2", error=i < 2), now=10)
    versioned = stats.stats_for(0, 10, GraphType.VERSIONED_APP)
    assert sorted((s.id, d.id, e.count, e.errors) for (s, d), e in versioned.items()) == [
        ("bookinfo/productpage/v1", "bookinfo/reviews/v1", 10, 0),
        ("bookinfo/productpage/v1", "bookinfo/reviews/v2", 10, 2),
    ]
    (app,) = stats.stats_for(0, 10, GraphType.APP).items()
    (source, destination), edge = app
    assert (source.id, destination.id, edge.count, edge.errors, edge.error_rate) == (
        "bookinfo/productpage", "bookinfo/reviews", 20, 2, 0.1)  # fmt: skip
    (service,) = stats.stats_for(0, 10, GraphType.SERVICE)
    assert service[1].id == "bookinfo/svc/reviews"
    assert len(stats.stats_for(0, 10, GraphType.WORKLOAD)) == 2


def test_exemplars_are_errors_then_the_slowest() -> None:
    stats = TraceStats(exemplars=2)
    for i in range(20):
        stats.add(request(i, 1.0, float(i), error=i in (3, 4, 5)), now=10)
    (edge,) = stats.stats_for(0, 10, GraphType.APP).values()
    assert edge.exemplars == (f"{4:032x}", f"{5:032x}", f"{20:032x}", f"{19:032x}")


def test_retention_prunes_old_slots_and_refuses_old_requests() -> None:
    stats = TraceStats(slot_s=10, retention_s=60)
    stats.add(request(1, 5.0, 1.0), now=10)
    stats.add(request(2, 55.0, 1.0), now=60)
    assert stats.counters.slots == 2
    assert stats.prune(now=75) == 1  # slot [0, 10) ended more than 60 s before 75
    assert stats.counters.slots == 1 and stats.counters.edges == 1
    assert not stats.add(request(3, 5.0, 1.0), now=75)
    assert stats.counters.too_old == 1
    stats.add(request(4, 200.0, 1.0), now=200)  # opening a new slot prunes too
    assert stats.counters.slots == 1 and stats.stats_for(0, 100, GraphType.APP) == {}


def test_edge_bound_refuses_new_edges_and_counts_them() -> None:
    stats = TraceStats(max_edges=1)
    assert stats.add(request(1, 1.0, 1.0, version="v1"), now=10)
    assert not stats.add(request(2, 1.0, 1.0, version="v2"), now=10)
    assert stats.add(request(3, 2.0, 1.0, version="v1"), now=10)  # known edge: still recorded
    assert stats.counters.dropped == 1 and stats.counters.recorded == 2 and stats.counters.edges == 1


def test_unpaired_requests_are_kept_on_their_virtual_and_unknown_nodes() -> None:
    stats = TraceStats()
    stats.add_many([PairedRequest.unanswered(CLIENT), PairedRequest.from_unknown(SERVER)], now=5)
    ids = sorted((s.id, d.id) for s, d in stats.stats_for(0, 10, GraphType.VERSIONED_APP))
    assert ids == [("bookinfo/productpage/v1", "bookinfo/svc/reviews"), ("unknown", "bookinfo/reviews/v2")]


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        TraceStats(slot_s=0)
    with pytest.raises(ValueError):
        TraceStats(slot_s=10, retention_s=5)
