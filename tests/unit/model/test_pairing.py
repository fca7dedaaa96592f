"""Client/server pairing: arrival order, TTL expiry, bounds, retries, in-process nesting, duplicates."""

from __future__ import annotations

import pytest

from observe.model.pairing import PairedRequest, Pairer, PairKind
from observe.model.spans import Peer, SpanKind, SpanRecord

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REVIEWS = Peer("reviews", "bookinfo", "v2", "reviews.bookinfo.svc.cluster.local")


def span(span_id: str, kind: SpanKind, parent: str | None = None, *, service: str = "productpage",
         trace: str = TRACE, duration_ms: float = 10.0, status: int | None = 200, error: bool = False,
         start_s: float = 100.0) -> SpanRecord:  # fmt: skip
    return SpanRecord(
        trace_id=trace, span_id=span_id.rjust(16, "0"), parent_id=parent.rjust(16, "0") if parent else None,
        kind=kind, service=service, version="v1", namespace="bookinfo", workload=f"{service}-v1",
        peer=REVIEWS if kind is SpanKind.CLIENT else None, operation="op", start_s=start_s,
        duration_ms=duration_ms, status_code=status, error=error,
    )  # fmt: skip


def client(span_id: str = "c1", **kw: object) -> SpanRecord:
    return span(span_id, SpanKind.CLIENT, kw.pop("parent", None), **kw)  # type: ignore[arg-type]


def server(span_id: str = "51", parent: str | None = "c1", **kw: object) -> SpanRecord:
    kw.setdefault("service", "reviews")
    return span(span_id, SpanKind.SERVER, parent, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("client_first", [True, False])
def test_pairs_in_either_order(client_first: bool) -> None:
    pairer = Pairer(ttl_s=10)
    c, s = client(duration_ms=12.0), server(duration_ms=9.0)
    first, second = (c, s) if client_first else (s, c)
    assert pairer.add(first, now=0) == []
    (request,) = pairer.add(second, now=1)
    assert request.kind is PairKind.PAIRED and request.client == c and request.server == s
    assert request.latency_ms == 12.0 and request.peer == REVIEWS and request.attempts == 1
    assert pairer.counters.paired == 1 and pairer.counters.pending == 0
    assert pairer.expire(now=1000) == []


def test_unmatched_client_becomes_virtual_peer_only_after_ttl() -> None:
    pairer = Pairer(ttl_s=10)
    pairer.add(client(status=0, error=True), now=0)
    assert pairer.expire(now=9.9) == []
    (request,) = pairer.expire(now=10)
    assert request.kind is PairKind.VIRTUAL_PEER and request.server is None and request.peer == REVIEWS
    assert request.error and request.attempts == 0
    assert pairer.counters.expired_clients == 1 and pairer.counters.pending == 0


def test_root_server_is_an_unknown_caller_at_once() -> None:
    pairer = Pairer()
    (request,) = pairer.add(server(parent=None, duration_ms=7.0), now=0)
    assert request.kind is PairKind.UNKNOWN_CALLER and request.client is None and request.latency_ms == 7.0
    assert pairer.counters.roots == 1


def test_server_whose_parent_never_arrives_expires_as_unknown_caller() -> None:
    pairer = Pairer(ttl_s=5)
    assert pairer.add(server(parent="dead"), now=0) == []
    (request,) = pairer.expire(now=6)
    assert request.kind is PairKind.UNKNOWN_CALLER
    assert pairer.counters.expired_servers == 1


def test_expiry_follows_arrival_order() -> None:
    pairer = Pairer(ttl_s=10)
    pairer.add(client("a1"), now=0)
    pairer.add(client("a2"), now=5)
    assert [r.client.span_id[-2:] for r in pairer.expire(now=12) if r.client] == ["a1"]
    assert [r.client.span_id[-2:] for r in pairer.expire(now=15) if r.client] == ["a2"]


def test_full_store_drops_and_counts_after_expiring_what_is_due() -> None:
    pairer = Pairer(ttl_s=10, max_items=2)
    pairer.add(client("a1"), now=0)
    pairer.add(client("a2"), now=0)
    assert pairer.add(client("a3"), now=1) == []
    assert pairer.counters.dropped == 1 and pairer.counters.pending == 2
    expired = pairer.add(client("a4"), now=10)  # room is made by expiring the due ones first
    assert len(expired) == 2 and pairer.counters.pending == 1 and pairer.counters.dropped == 1


def test_completed_pairs_do_not_count_against_the_bound() -> None:
    pairer = Pairer(ttl_s=10, max_items=1)
    for i in range(50):
        pairer.add(client(f"c{i:02d}"), now=i)
        assert len(pairer.add(server(f"5{i:02d}", parent=f"c{i:02d}"), now=i)) == 1
    assert pairer.counters.paired == 50 and pairer.counters.dropped == 0


def test_retries_client_first_count_one_request_and_later_attempts_as_retries() -> None:
    pairer = Pairer()
    pairer.add(client(status=200), now=0)
    (request,) = pairer.add(server("51", status=503, error=True, start_s=100.0), now=0)
    assert pairer.add(server("52", status=200, start_s=100.1), now=0) == []
    assert not request.error  # the caller's outcome: the retry succeeded
    assert pairer.counters.paired == 1 and pairer.counters.retries == 1
    assert pairer.add(server("52"), now=0) == [] and pairer.counters.duplicates == 1


def test_retries_servers_first_pair_with_the_answering_attempt() -> None:
    pairer = Pairer()
    pairer.add(server("51", status=503, error=True, start_s=100.0), now=0)
    pairer.add(server("52", status=200, start_s=100.2), now=0)
    (request,) = pairer.add(client(status=200, duration_ms=40.0), now=0)
    assert request.attempts == 2 and request.server is not None and request.server.span_id.endswith("52")
    assert request.latency_ms == 40.0 and not request.error
    assert pairer.counters.retries == 1 and pairer.counters.pending == 0


def test_error_and_status_come_from_the_server_when_the_client_does_not_know() -> None:
    request = PairedRequest.paired(client(status=None), [server(status=500, error=True)])
    assert request.error and request.status_code == 500


def test_sdk_server_span_nested_under_the_sidecar_span_is_not_a_hop() -> None:
    pairer = Pairer()
    sidecar = server("51")
    app = server("a5", parent="51")  # the app's own SERVER span, child of its sidecar's
    assert pairer.add(app, now=0) == []  # parent unknown yet: waits
    pairer.add(client(), now=0)
    assert [r.kind for r in pairer.add(sidecar, now=0)] == [PairKind.PAIRED]
    assert pairer.counters.nested == 1 and pairer.counters.pending == 0
    assert pairer.add(server("a6", parent="51"), now=0) == []  # parent already known: dropped at once
    assert pairer.counters.nested == 2


def test_server_under_a_non_client_span_of_another_service_has_an_unknown_caller() -> None:
    pairer = Pairer()
    pairer.add(span("i1", SpanKind.INTERNAL, service="batch"), now=0)
    (request,) = pairer.add(server("51", parent="i1"), now=0)
    assert request.kind is PairKind.UNKNOWN_CALLER and pairer.counters.ignored == 1


@pytest.mark.parametrize("outer_first", [True, False])
def test_in_process_client_wrapping_the_sidecar_client_is_not_a_hop(outer_first: bool) -> None:
    pairer = Pairer(ttl_s=10)
    outer, inner = client("0a"), client("c1", parent="0a")
    for item in (outer, inner) if outer_first else (inner, outer):
        pairer.add(item, now=0)
    (request,) = pairer.add(server(), now=0)
    assert request.client == inner
    assert pairer.expire(now=100) == [] and pairer.counters.nested == 1


def test_duplicates_are_ignored() -> None:
    pairer = Pairer()
    pairer.add(server(), now=0)
    pairer.add(server(), now=0)
    pairer.add(client(), now=0)
    pairer.add(client(), now=0)
    assert pairer.counters.duplicates == 2 and pairer.counters.paired == 1


def test_producer_consumer_pair_like_client_server() -> None:
    pairer = Pairer()
    pairer.add(client()._replace(kind=SpanKind.PRODUCER), now=0)
    (request,) = pairer.add(server()._replace(kind=SpanKind.CONSUMER), now=0)
    assert request.kind is PairKind.PAIRED


def test_same_span_ids_in_other_traces_do_not_pair() -> None:
    pairer = Pairer()
    pairer.add(client(), now=0)
    assert pairer.add(server(trace="1" * 32), now=0) == []


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Pairer(ttl_s=0)
    with pytest.raises(ValueError):
        Pairer(max_items=0)
