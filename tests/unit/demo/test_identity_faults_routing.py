"""Peer metadata exchange, fault values and parsing, and weighted subset routing."""

from __future__ import annotations

import base64
import random

import pytest

from observe.demo.faults import Fault, fault_from_wire, parse_fault_spec
from observe.demo.identity import (
    PEER_METADATA_HEADER,
    PEER_METADATA_ID_HEADER,
    WorkloadIdentity,
    bookinfo_edges,
    namespace_of_principal,
    peer_headers,
    read_peer,
)
from observe.demo.routing import Endpoint, Routes
from observe.errors import BadQuery, NotFound

REVIEWS_V3 = WorkloadIdentity("reviews-v3", "reviews", "v3", "shop", "bookinfo-reviews")


def test_peer_metadata_round_trips_through_headers() -> None:
    headers = peer_headers(REVIEWS_V3)
    assert set(headers) == {PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER}
    assert headers[PEER_METADATA_ID_HEADER] == "sidecar~127.0.0.1~reviews-v3.shop~shop.svc.cluster.local"
    assert read_peer(headers) == REVIEWS_V3
    assert read_peer(headers).principal == "spiffe://cluster.local/ns/shop/sa/bookinfo-reviews"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value",
    ["", "not base64!", base64.b64encode(b"not json").decode(), base64.b64encode(b'{"NAMESPACE": "x"}').decode()],
)
def test_missing_or_malformed_peer_metadata_means_unknown_peer(value: str) -> None:
    assert read_peer({PEER_METADATA_HEADER: value}) is None
    assert read_peer({}) is None


def test_namespace_from_spiffe_id() -> None:
    assert namespace_of_principal("spiffe://cluster.local/ns/bookinfo/sa/bookinfo-ratings") == "bookinfo"
    assert namespace_of_principal("unknown") is None


def test_bookinfo_call_graph() -> None:
    assert sorted(bookinfo_edges()) == [
        ("productpage-v1", "details-v1"),
        ("productpage-v1", "reviews-v1"),
        ("productpage-v1", "reviews-v2"),
        ("productpage-v1", "reviews-v3"),
        ("reviews-v2", "ratings-v1"),
        ("reviews-v3", "ratings-v1"),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"error_ratio": 1.5},
        {"error_ratio": -0.1},
        {"error_ratio": float("nan")},
        {"error_code": 200},
        {"error_code": 700},
        {"latency_ms": -1},
        {"latency_ms": float("inf")},
        {"latency_ms": 120_000},
    ],
)
def test_fault_rejects_out_of_range_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)  # type: ignore[arg-type]


def test_fault_from_wire_defaults_and_errors() -> None:
    assert fault_from_wire({"error_ratio": 0.2}) == Fault(error_ratio=0.2)
    assert fault_from_wire({}).is_noop
    with pytest.raises(BadQuery) as unknown:
        fault_from_wire({"error_rate": 0.2})
    assert unknown.value.field == "error_rate"
    with pytest.raises(BadQuery) as bad:
        fault_from_wire({"error_ratio": 2})
    assert bad.value.field == "error_ratio"
    bodies: list[object] = [[], "x", {"down": "yes"}, {"latency_ms": True}]
    for body in bodies:
        with pytest.raises(BadQuery):
            fault_from_wire(body)


def test_parse_fault_spec_for_the_cli() -> None:
    assert parse_fault_spec("reviews-v2:error_ratio=0.2,latency_ms=100") == (
        "reviews-v2",
        Fault(error_ratio=0.2, latency_ms=100.0),
    )
    assert parse_fault_spec("ratings-v1:down=true,error_code=503") == ("ratings-v1", Fault(error_code=503, down=True))
    for bad in ("reviews-v2", ":error_ratio=1", "reviews-v2:bogus=1", "reviews-v2:down=maybe"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


def _routes() -> Routes:
    routes = Routes("bookinfo")
    for port, version in enumerate(("v1", "v2", "v3"), start=9001):
        routes.add(Endpoint(WorkloadIdentity(f"reviews-{version}", "reviews", version, "bookinfo", "sa"), "h", port))
    return routes


def test_subsets_are_drawn_by_weight() -> None:
    routes = _routes()
    assert routes.weights("reviews") == {"v1": 1.0, "v2": 1.0, "v3": 1.0}
    routes.set_weights("reviews", {"v1": 3, "v2": 1})
    rng = random.Random(1)
    picks = [routes.pick("reviews", rng).subset for _ in range(4000)]
    assert "v3" not in picks
    assert 0.72 < picks.count("v1") / len(picks) < 0.78
    cluster = routes.pick("reviews", rng)
    assert cluster.name == f"outbound|9080|{cluster.subset}|reviews.bookinfo.svc.cluster.local"
    assert [e.identity.version for e in routes.endpoints(cluster)] == [cluster.subset]


def test_bad_weights_are_rejected() -> None:
    routes = _routes()
    with pytest.raises(NotFound):
        routes.set_weights("nope", {"v1": 1})
    for weights in ({"v4": 1}, {"v1": 0, "v2": 0}, {"v1": -1}, {"v1": float("nan")}, {"v1": "1"}, {"v1": True}):
        with pytest.raises(BadQuery):
            routes.set_weights("reviews", weights)  # type: ignore[arg-type]
    assert routes.weights("reviews") == {"v1": 1.0, "v2": 1.0, "v3": 1.0}
