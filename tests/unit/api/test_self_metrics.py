"""/metrics exposes what an operator needs to see the service itself: refreshes, queries and errors per source,
cache outcomes, spans received and dropped, load shed."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.api.test_api import ClientFactory
from tests.unit.bookinfo_samples import bookinfo_rates
from tests.unit.otlp_requests import Hop, request_for

FAMILIES = (
    'observe_refresh_duration_seconds_count{kind="live"} 1.0',
    'observe_promql_queries_total{kind="rates"} 1.0',
    'observe_source_calls_total{outcome="ok",source="prometheus"}',
    'observe_source_up{source="prometheus"} 1.0',
    'observe_view_requests_total{outcome="hit"} 1.0',
    'observe_view_requests_total{outcome="wait"} 1.0',
    'observe_spans_received_total{origin="otlp"} 2.0',
    "observe_spans_dropped_total",
    "observe_otlp_requests_shed_total 0.0",
    'observe_http_requests_total{route="/api/v1/topology",status="200"} 2.0',
)


async def test_metrics_cover_refreshes_sources_cache_and_spans(aiohttp_client: ClientFactory) -> None:
    app = create_app(Settings(), metrics_source=FakeMetricsSource(rates=bookinfo_rates()))
    client: TestClient = await aiohttp_client(app)  # type: ignore[type-arg]
    for _ in range(2):  # a refresh, then a cache hit
        assert (await client.get("/api/v1/topology")).status == 200
    body = request_for([Hop(("productpage", "v1"), ("reviews", "v2"), trace=1, hop=0, start_s=1.0, ms=10)])
    posted = await client.post("/v1/traces", data=body.SerializeToString(),
                               headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
    assert posted.status == 200
    text = await (await client.get("/metrics")).text()
    assert [f for f in FAMILIES if f not in text] == []
