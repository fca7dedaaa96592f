"""/api/v1/compare and /api/v1/versions over a fake Prometheus that answers each comparison query."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from observe.api import keys
from observe.api.compare import register_compare_routes
from observe.api.middleware import errors_middleware
from observe.cli.compare import format_table
from observe.errors import SourceUnavailable
from observe.model.samples import VectorSample
from observe.services.compare import CompareService
from observe.services.telemetry import SelfMetrics
from tests.fakes.metrics import FakeMetricsSource

NOW = 1_800_000_000.0
ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]
V = "destination_canonical_revision"


def _inbound(version: str, code: str, n: float) -> VectorSample:
    return VectorSample({V: version, "source_workload": "productpage-v1", "response_code": code,
                         "response_flags": "-"}, n)  # fmt: skip


def _buckets(version: str, shift: int) -> list[VectorSample]:
    bounds = (5, 10, 25, 50, 100, 250)
    cumulative = [min(1000.0, 900.0 + 90 * i) if shift == 0 else [0, 0, 0, 50, 200, 1000][i] for i in range(6)]
    del shift
    return [VectorSample({V: version, "le": f"{b:g}"}, c) for b, c in zip(bounds, cumulative, strict=True)] + [
        VectorSample({V: version, "le": "+Inf"}, 1000.0)]  # fmt: skip


@dataclass
class CompareFake(FakeMetricsSource):
    """Answers by query kind (the comparison issues five different ones)."""

    canary_errors: float = 0.0
    canary_slow: bool = False

    async def query(self, promql: str, at: float, timeout_s: float) -> list[VectorSample]:
        self.calls.append((promql, at))
        if self.fail:
            raise SourceUnavailable(self.name, self.fail)
        if "count by" in promql:
            return [VectorSample({V: "v1"}, 3), VectorSample({V: "v2"}, 3)]
        if "_bucket" in promql:
            return _buckets("v1", 0) + _buckets("v2", 1 if self.canary_slow else 0)
        if 'reporter="source"' in promql:
            return []
        return [_inbound("v1", "200", 3000), _inbound("v1", "500", 3), _inbound("v2", "200", 1000 - self.canary_errors),
                _inbound("v2", "503", self.canary_errors)]  # fmt: skip


async def _client(aiohttp_client: ClientFactory, source: FakeMetricsSource) -> TestClient:  # type: ignore[type-arg]
    app = web.Application(middlewares=[errors_middleware])
    app[keys.METRICS] = SelfMetrics()
    register_compare_routes(app, CompareService(source, clock=lambda: NOW))
    return await aiohttp_client(app)


BASE = "/api/v1/compare?namespace=bookinfo&service=reviews&baseline=v1&canary=v2"


async def test_healthy_canary_is_not_a_failure(aiohttp_client: ClientFactory) -> None:
    client = await _client(aiohttp_client, CompareFake())
    body = await (await client.get(BASE + "&window=5m")).json()
    assert body["verdict"] in ("PASS", "INSUFFICIENT_DATA", "MARGINAL") and body["missing"] == []
    errors = body["metrics"]["errors"]
    assert errors["baseline"]["n"] == 3003 and errors["canary"]["n"] == 1000 and len(errors["difference"]["ci"]) == 2
    assert body["traffic"]["v2"]["configured_weight"] is None
    assert body["traffic"]["v1"]["share"] == pytest.approx(0.7502)
    assert body["metrics"]["latency"]["baseline"]["p50_ms"] == [0, 5]
    assert body["look"]["number"] == 1 and body["stable_for"] == 1 and body["actionable"] is False


async def test_broken_canary_fails_with_reason_and_debounces(aiohttp_client: ClientFactory) -> None:
    source = CompareFake(canary_errors=100, canary_slow=True)
    client = await _client(aiohttp_client, source)
    answers = [await (await client.get(BASE)).json() for _ in range(3)]
    assert {a["verdict"] for a in answers} == {"CRITICAL"}
    assert "errors CRITICAL" in answers[0]["reason"] and "latency" in answers[0]["reason"]
    assert [a["actionable"] for a in answers] == [False, False, True] and answers[2]["stable_for"] == 3
    assert all('="reviews"' in q and 'namespace="bookinfo"' in q for q, _ in source.calls)
    assert "CRITICAL" in format_table(answers[0])


async def test_failing_prometheus_is_error_not_pass(aiohttp_client: ClientFactory) -> None:
    client = await _client(aiohttp_client, CompareFake(fail="timeout after 5s"))
    response = await client.get(BASE)
    assert response.status == 200
    body = await response.json()
    assert body["verdict"] == "ERROR" and body["missing"][0]["error"] == "timeout after 5s"


async def test_unknown_version_is_404(aiohttp_client: ClientFactory) -> None:
    client = await _client(aiohttp_client, CompareFake())
    response = await client.get(BASE.replace("canary=v2", "canary=v9"))
    assert response.status == 404
    error = (await response.json())["error"]
    assert error["field"] == "canary" and "known: v1, v2" in error["message"]


@pytest.mark.parametrize(("query", "field"), [
    ("namespace=Bad_NS&service=reviews&baseline=v1&canary=v2", "namespace"),
    ("namespace=bookinfo&baseline=v1&canary=v2", "service"),
    ('namespace=bookinfo&service=rev"}or{x="&baseline=v1&canary=v2', "service"),
    ("namespace=bookinfo&service=reviews&baseline=v1&canary=v1", "canary"),
    ("namespace=bookinfo&service=reviews&baseline=v1&canary=v2&window=1x", "window"),
    ("namespace=bookinfo&service=reviews&baseline=v1&canary=v2&colour=red", "colour"),
])  # fmt: skip
async def test_bad_parameters_are_400(aiohttp_client: ClientFactory, query: str, field: str) -> None:
    client = await _client(aiohttp_client, CompareFake())
    response = await client.get(f"/api/v1/compare?{query}")
    assert response.status == 400 and (await response.json())["error"]["field"] == field


async def test_versions_with_traffic_share(aiohttp_client: ClientFactory) -> None:
    client = await _client(aiohttp_client, CompareFake())
    body = await (await client.get("/api/v1/versions?namespace=bookinfo&service=reviews&window=10m")).json()
    shares = {v["version"]: v["share"] for v in body["versions"]}
    assert shares["v1"] == pytest.approx(0.7502, abs=1e-3) and not math.isnan(shares["v2"])
    assert body["versions"][0]["rps"] == pytest.approx(3003 / 600, abs=1e-3)
