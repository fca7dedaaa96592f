from observe.model.ids import GraphType, NodeKey, NodeKind
from observe.model.spans import SpanKind, SpanRecord
from observe.model.trace_store import TraceQuery, TraceStore, hops, summarize


def span(trace: int, span_id: int, parent: int | None, kind: SpanKind, service: str, start: float, ms: float,
         error: bool = False) -> SpanRecord:  # fmt: skip
    return SpanRecord(f"{trace:032x}", f"{span_id:016x}", f"{parent:016x}" if parent else None, kind, service, "v1",
                      "bookinfo", f"{service}-v1", None, "GET /", start, ms, 500 if error else 200, error)  # fmt: skip


def trace_spans(trace: int, start: float, error: bool = False) -> list[SpanRecord]:
    return [
        span(trace, 1, None, SpanKind.SERVER, "productpage", start, 30),
        span(trace, 2, 1, SpanKind.CLIENT, "productpage", start + 0.001, 20, error),
        span(trace, 3, 2, SpanKind.SERVER, "reviews", start + 0.002, 18, error),
    ]


def test_summary_root_duration_and_services() -> None:
    s = summarize("t", trace_spans(1, 100.0, error=True))
    assert (s.root_service, s.span_count, s.error, s.services) == ("productpage", 3, True, ("productpage", "reviews"))
    assert s.duration_ms == 30.0


def test_hops_pair_client_with_server_child() -> None:
    [hop] = hops(trace_spans(1, 100.0))
    assert hop.client is not None and hop.server is not None and hop.server.service == "reviews"


def test_search_filters_and_newest_first() -> None:
    store = TraceStore()
    for i in range(10):
        store.add(trace_spans(i + 1, 100.0 + i, error=i % 3 == 0), now=200.0)
    window = TraceQuery(start_s=0, end_s=1000)
    assert [t.trace_id[-1] for t in store.search(TraceQuery(0, 1000, limit=3))] == ["a", "9", "8"]
    assert len(store.search(TraceQuery(0, 1000, errors_only=True))) == 4
    assert store.search(TraceQuery(0, 1000, service="ratings")) == []
    assert store.search(TraceQuery(104.01, 1000, limit=100))[-1].start_s == 104.0  # it ends inside the window
    edge = (NodeKey(NodeKind.APP, "bookinfo", app="productpage", version="v1"),
            NodeKey(NodeKind.APP, "bookinfo", app="reviews", version="v1"))  # fmt: skip
    assert len(store.search(TraceQuery(0, 1000, edge=edge, graph=GraphType.VERSIONED_APP, limit=100))) == 10
    assert store.search(TraceQuery(0, 1000, edge=(edge[1], edge[0]), limit=100)) == []
    assert len(store.search(window)) == 10


def test_bounds_evict_oldest_traces_and_count() -> None:
    store = TraceStore(max_spans=9, retention_s=60)
    for i in range(5):
        store.add(trace_spans(i + 1, float(i)), now=float(i))
    assert store.span_count == 9 and store.evicted_spans == 6
    assert store.get(f"{1:032x}") is None and store.get(f"{5:032x}") is not None
    store.evict(now=100.0)  # everything is older than the retention now
    assert store.span_count == 0 and store.evicted_spans == 15


def test_duplicate_spans_are_stored_once() -> None:
    store = TraceStore()
    store.add(trace_spans(1, 0.0) * 2, now=0.0)
    assert store.span_count == 3 and len(store.get(f"{1:032x}") or []) == 3


def test_server_durations_of_one_version_in_a_window() -> None:
    store = TraceStore()
    for trace in range(5):
        store.add(trace_spans(trace, 100.0 + trace), now=110.0)
    assert sorted(store.server_durations("bookinfo", "reviews", "v1", 101.0, 104.0)) == [18.0] * 3
    assert store.server_durations("bookinfo", "reviews", "v2", 0.0, 200.0) == []
    assert len(store.server_durations("bookinfo", "productpage", "v1", 0.0, 200.0, limit=2)) == 2
