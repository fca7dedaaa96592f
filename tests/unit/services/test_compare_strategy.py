"""Issue 11 in the comparison: mirrored copies are not user traffic, a mirror-only canary is judged on its
responses to the copies, and the live VirtualService gives configured weights and the strategy (match routes
to the canary make the caller mix differ by design: NOT_COMPARABLE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from observe.compare.strategy import read_strategy
from observe.errors import SourceUnavailable
from observe.model.samples import VectorSample
from observe.services.compare import CompareRequest, CompareService
from observe.sources.compare_queries import buckets_query, inbound_query
from tests.fakes.metrics import FakeMetricsSource

V = "destination_canonical_revision"
NOW = 1_800_000_000.0
HOST = "reviews"


def _inbound(version: str, code: str, n: float) -> VectorSample:
    return VectorSample({V: version, "source_workload": "productpage-v1", "response_code": code,
                         "response_flags": "-"}, n)  # fmt: skip


def _buckets(version: str, total: float) -> list[VectorSample]:
    return [VectorSample({V: version, "le": le}, total * share) for le, share in
            (("10", 0.5), ("25", 0.9), ("100", 1.0), ("+Inf", 1.0))]  # fmt: skip


@dataclass
class ShadowFake(FakeMetricsSource):
    """Answers user queries (`destination_service!~".*-shadow"`) and shadow queries apart."""

    live: dict[str, float] = field(default_factory=lambda: {"v1": 3000.0, "v2": 1000.0})
    copies: dict[str, float] = field(default_factory=lambda: {"v2": 500.0})
    copy_errors: float = 0.0

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        self.calls.append((promql, at))
        if "count by" in promql:
            return [VectorSample({V: v}, 1) for v in {*self.live, *self.copies}]
        if 'reporter="source"' in promql:
            return []
        shadow = 'destination_service=~".*-shadow"' in promql
        counts = self.copies if shadow else self.live
        if "_bucket" in promql:
            return [s for v, n in counts.items() for s in _buckets(v, n)]
        out = [_inbound(v, "200", n) for v, n in counts.items()]
        return out + ([_inbound("v2", "500", self.copy_errors)] if shadow and self.copy_errors else [])


def _service(objects: dict[str, Any] | None = None, source: FakeMetricsSource | None = None) -> CompareService:
    service = CompareService(source or ShadowFake(), clock=lambda: NOW)
    if objects is not None:

        async def read(namespace: str, host: str) -> dict[str, Any]:
            assert (namespace, host) == ("bookinfo", HOST)
            return objects

        service.traffic_objects = read
    return service


def _dest(subset: str, weight: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"destination": {"host": HOST, "subset": subset}}
    return out if weight is None else {**out, "weight": weight}


def _vs(*routes: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": HOST, "namespace": "bookinfo", "annotations": annotations or {}},
            "spec": {"hosts": [HOST], "http": list(routes)}}  # fmt: skip


RULE = {"spec": {"host": HOST, "subsets": [{"name": v, "labels": {"version": v}} for v in ("v1", "v2", "v3")]}}
MATCH = {"name": "observe-match-header-end-user", "match": [{"headers": {"end-user": {"exact": "jason"}}}],
         "route": [_dest("v2")]}  # fmt: skip
REQUEST = CompareRequest("bookinfo", HOST, "v1", "v2", 300.0, None)


def test_inbound_queries_leave_shadow_series_out() -> None:
    for query in (inbound_query("bookinfo", HOST, 60), buckets_query("bookinfo", HOST, 60)):
        assert 'destination_service!~".*-shadow"' in query
    assert 'destination_service=~".*-shadow"' in inbound_query("bookinfo", HOST, 60, shadow=True)


async def test_shadow_requests_are_not_user_traffic() -> None:
    body = await _service().compare(REQUEST)
    assert body["mode"] == "live" and body["traffic"]["v2"]["requests"] == 1000
    assert body["strategy"] == {"kind": "none", "detail": "no VirtualService: requests are balanced over every version"}


async def test_mirror_only_canary_is_judged_on_its_copies() -> None:
    source = ShadowFake(live={"v1": 3000.0}, copies={"v2": 800.0}, copy_errors=200.0)
    vs = _vs({"route": [_dest("v1", 100)], "mirror": {"host": HOST, "subset": "v2"},
              "mirrorPercentage": {"value": 25.0}})  # fmt: skip
    body = await _service({"VirtualService": vs, "DestinationRule": RULE}, source).compare(REQUEST)
    assert body["mode"] == "mirror" and body["traffic"]["v2"]["requests"] == 1000
    assert body["metrics"]["errors"]["canary"]["n"] == 1000 and body["verdict"] in ("FAIL", "CRITICAL")
    assert "mirrored copies" in body["reason"]
    assert body["strategy"]["kind"] == "mirror" and "25% " in body["strategy"]["detail"]
    assert (body["traffic"]["v1"]["configured_weight"], body["traffic"]["v2"]["configured_weight"]) == (100, 0)


async def test_configured_weights_come_from_the_live_virtual_service() -> None:
    vs = _vs({"route": [_dest("v1", 80), _dest("v2", 20)]})
    body = await _service({"VirtualService": vs, "DestinationRule": RULE}).compare(REQUEST)
    assert (body["traffic"]["v1"]["configured_weight"], body["traffic"]["v2"]["configured_weight"]) == (80, 20)
    assert body["strategy"] == {"kind": "weights", "detail": "default route: v1 80%, v2 20%"}
    versions = await _service({"VirtualService": vs, "DestinationRule": RULE}).versions("bookinfo", HOST, 300, None)
    assert {v["version"]: (v["configured_weight"], v["mirror_rps"]) for v in versions["versions"]} == {
        "v1": (80, 0.0), "v2": (20, pytest.approx(500 / 300, abs=1e-3))}  # fmt: skip


async def test_match_route_only_canary_is_not_comparable() -> None:
    vs = _vs(MATCH, {"route": [_dest("v1", 100), _dest("v2", 0)]})
    body = await _service({"VirtualService": vs, "DestinationRule": RULE}).compare(REQUEST)
    assert body["verdict"] == "NOT_COMPARABLE" and "observe-match-header-end-user" in body["reason"]
    assert body["strategy"]["kind"] == "match" and body["traffic"]["v2"]["configured_weight"] == 0


async def test_match_route_plus_weighted_traffic_is_compared_and_said() -> None:
    vs = _vs(MATCH, {"route": [_dest("v1", 90), _dest("v2", 10)]})
    body = await _service({"VirtualService": vs, "DestinationRule": RULE}).compare(REQUEST)
    assert body["verdict"] != "NOT_COMPARABLE" and "includes header-routed requests" in body["reason"]


async def test_an_unreadable_virtual_service_does_not_fail_the_comparison() -> None:
    service = _service()

    async def broken(namespace: str, host: str) -> dict[str, Any]:
        raise SourceUnavailable("kubernetes", "timeout")

    service.traffic_objects = broken
    body = await service.compare(REQUEST)
    assert body["strategy"]["kind"] == "none" and "could not be read" in body["strategy"]["detail"]


def test_blue_green_and_host_only_routes() -> None:
    blue_green = _vs({"route": [_dest("v2", 100)]}, annotations={"observe.io/blue-green-previous": "v1"})
    strategy = read_strategy(blue_green, RULE, "v2")
    assert strategy.kind == "blue-green" and "v1" in strategy.detail and strategy.weight("v1") == 0
    host_only = read_strategy(_vs({"route": [{"destination": {"host": HOST}}]}), RULE, "v2")
    assert host_only.kind == "weights" and host_only.weight("v2") is None
    assert read_strategy(None, None, "v2").kind == "none"
