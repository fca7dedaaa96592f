from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.bookinfo_samples import bookinfo_rates

NOW = 1_800_000_000.0
ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]


@pytest.fixture
def source() -> FakeMetricsSource:
    return FakeMetricsSource(rates=bookinfo_rates())


@pytest.fixture
async def client(aiohttp_client: ClientFactory, source: FakeMetricsSource) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(Settings(), metrics_source=source, clock=lambda: NOW))


async def test_topology_default_is_versioned_app(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/topology")
    assert response.status == 200
    body = await response.json()
    assert body["graph"] == "versioned-app" and body["window_s"] == 60 and body["as_of"] == NOW
    assert {e["target"] for e in body["edges"]} >= {"bookinfo/reviews/v1", "bookinfo/ratings/v1"}


@pytest.mark.parametrize(("query", "field", "words"), [
    ("window=15x", "window", "expected a duration like 15m"),
    ("window=1s", "window", "between 5s and 30d"),
    ("graph=bogus", "graph", "expected one of"),
    ("namespace=Bad_NS", "namespace", "DNS label"),
    ("namespace=a,../etc", "namespace", "DNS label"),
    ("at=yesterday", "at", "RFC 3339"),
    (f"at={NOW + 3600}", "at", "in the future"),
    ("colour=red", "colour", "unknown parameter"),
    ("window=5m&window=1m", "window", "given 2 times"),
])  # fmt: skip
async def test_bad_parameters_are_400_naming_the_field(
    client: TestClient, query: str, field: str, words: str  # type: ignore[type-arg]
) -> None:
    response = await client.get(f"/api/v1/topology?{query}")
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "bad_query" and error["field"] == field and words in error["message"]


async def test_past_instant_is_passed_to_prometheus(client: TestClient, source: FakeMetricsSource) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/topology?at=2026-11-23T10:00:00Z&window=5m&graph=app")
    body = await response.json()
    assert body["as_of"] == 1795428000.0 and body["graph"] == "app"
    assert {at for _, at in source.calls} == {1795428000.0}
    assert all("[5m]" in q for q, _ in source.calls)


async def test_dead_prometheus_is_200_with_missing_never_500(
    client: TestClient, source: FakeMetricsSource  # type: ignore[type-arg]
) -> None:
    source.fail = "cannot connect to http://127.0.0.1:9: connection refused"
    response = await client.get("/api/v1/topology")
    assert response.status == 200
    body = await response.json()
    assert body["edges"] == [] and body["missing"][0]["error"].startswith("rates: cannot connect")


async def test_health_ready_and_metrics(client: TestClient, source: FakeMetricsSource) -> None:  # type: ignore[type-arg]
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    source.ready_answer = False
    not_ready = await client.get("/readyz")
    body = await not_ready.json()  # still ready: the last good data is served (observe/api/health.py)
    assert not_ready.status == 200 and body["status"] == "degraded"
    assert "unreachable" in body["sources"]["prometheus"]["error"]
    await client.get("/api/v1/topology")
    text = await (await client.get("/metrics")).text()
    assert 'observe_promql_queries_total{kind="rates"} 1.0' in text
    assert 'observe_http_requests_total{route="/api/v1/topology",status="200"} 1.0' in text


async def test_unknown_route_is_json_404(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/nope")
    assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"
