"""The OTLP receiver and the trace API, through the real aiohttp app (Prometheus replaced by a fake)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from observe.api.app import RUNNER_OPTIONS, create_app
from observe.settings import Settings
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.bookinfo_samples import bookinfo_rates
from tests.unit.otlp_requests import Hop, request_for

NOW = 1_800_000_000.0
PB = {"Content-Type": "application/x-protobuf"}
FIXTURES = Path(__file__).parents[2] / "fixtures" / "telemetry"
ClientFactory = Callable[[Any], Awaitable[TestClient]]  # type: ignore[type-arg]
PRODUCTPAGE, REVIEWS_V2 = ("productpage", "v1"), ("reviews", "v2")


def hops(n: int, status: int = 200) -> list[Hop]:
    return [Hop(PRODUCTPAGE, REVIEWS_V2, trace=i + 1, hop=0, start_s=NOW - 30 + i * 0.01, ms=10 + i % 50,
                status=status if i % 10 == 0 else 200) for i in range(n)]  # fmt: skip


@pytest.fixture
async def client(aiohttp_client: ClientFactory) -> TestClient:  # type: ignore[type-arg]
    source = FakeMetricsSource(rates=bookinfo_rates())
    server = TestServer(create_app(Settings(), metrics_source=source, clock=lambda: NOW), host="127.0.0.1")
    options = {k: v for k, v in RUNNER_OPTIONS.items() if k != "access_log"}
    await server.start_server(**options)  # served as observe serves it
    return await aiohttp_client(server)


async def test_protobuf_spans_reach_the_topology_edge(client: TestClient) -> None:  # type: ignore[type-arg]
    body = request_for(hops(200, status=503)).SerializeToString()
    response = await client.post("/v1/traces", data=body, headers=PB)
    assert response.status == 200 and response.content_type == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(await response.read()).HasField("partial_success")
    topology = await (await client.get("/api/v1/topology")).json()
    edge = next(e for e in topology["edges"] if e["target"] == "bookinfo/reviews/v2")
    assert edge["seen_by"] == ["metrics", "traces"]
    assert edge["trace"]["count"] == 200 and edge["trace"]["errors"] == 20
    assert edge["trace"]["p99_ms"] == pytest.approx(59, rel=0.02) and edge["trace"]["exemplars"]
    assert edge["rps"] == 3.0  # metrics stay authoritative for rates


async def test_gzip_json_body_and_partial_success(client: TestClient) -> None:  # type: ignore[type-arg]
    payload = json.loads((FIXTURES / "otlp-json-traces-request.json").read_text())
    payload["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "not-hex"
    response = await client.post("/v1/traces", data=gzip.compress(json.dumps(payload).encode()),
                                 headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})  # fmt: skip
    assert response.status == 200 and response.content_type == "application/json"
    answer = await response.json()
    assert answer["partialSuccess"]["rejectedSpans"] == "1" and answer["partialSuccess"]["errorMessage"]


@pytest.mark.parametrize(("body", "headers", "status"), [
    (b"\x0a\xff\xff\xff garbage", PB, 400),
    (b'{"resourceSpans": [', {"Content-Type": "application/json"}, 400),
    (b"x", {"Content-Type": "text/plain"}, 415),
    (b"x", {**PB, "Content-Encoding": "br"}, 415),
    (b"not gzip", {**PB, "Content-Encoding": "gzip"}, 400),
    (gzip.compress(b"\0" * (40 * 1024 * 1024)), {**PB, "Content-Encoding": "gzip"}, 413),
    (b"\0" * (9 * 1024 * 1024), PB, 413),
])  # fmt: skip
async def test_bad_bodies_are_refused_per_otlp_and_nothing_is_lost(
    client: TestClient, body: bytes, headers: dict[str, str], status: int  # type: ignore[type-arg]
) -> None:
    await client.post("/v1/traces", data=request_for(hops(5)).SerializeToString(), headers=PB)
    response = await client.post("/v1/traces", data=body, headers=headers)
    assert response.status == status
    raw = await response.read()
    if response.content_type == "application/json":
        assert json.loads(raw)["message"]
    else:
        assert status_pb2.Status.FromString(raw).message
    found = await (await client.get("/api/v1/traces", params={"service": "reviews"})).json()
    assert len(found["traces"]) == 5  # what was stored before is still there


async def test_trace_search_and_one_trace(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.post("/v1/traces", data=request_for(hops(30, status=500)).SerializeToString(), headers=PB)
    errors = await (await client.get("/api/v1/traces", params={
        "edge": "bookinfo/productpage/v1->bookinfo/reviews/v2", "errors": "true", "limit": "50"})).json()  # fmt: skip
    assert len(errors["traces"]) == 3 and all(t["error"] for t in errors["traces"])
    slow = await (await client.get("/api/v1/traces", params={"min_duration": "35ms"})).json()
    assert len(slow["traces"]) == 5 and all(t["duration_ms"] >= 35 for t in slow["traces"])  # 35..39 ms
    trace_id = errors["traces"][0]["trace_id"]
    trace = await (await client.get(f"/api/v1/traces/{trace_id}")).json()
    kinds = {(s["service"], s["kind"]) for s in trace["spans"]}
    assert kinds == {("productpage", "client"), ("reviews", "server")}
    server = next(s for s in trace["spans"] if s["kind"] == "server")
    client_span = next(s for s in trace["spans"] if s["kind"] == "client")
    assert server["parent_id"] == client_span["span_id"] and server["version"] == "v2"


@pytest.mark.parametrize(("path", "status", "field"), [
    ("/api/v1/traces/xyz", 400, "trace_id"),
    ("/api/v1/traces/" + "ab" * 16, 404, "trace_id"),
    ("/api/v1/traces?limit=0", 400, "limit"),
    ("/api/v1/traces?errors=maybe", 400, "errors"),
    ("/api/v1/traces?edge=a-b", 400, "edge"),
    ("/api/v1/traces?min_duration=fast", 400, "min_duration"),
])  # fmt: skip
async def test_trace_api_errors(client: TestClient, path: str, status: int, field: str) -> None:  # type: ignore[type-arg]
    response = await client.get(path)
    assert response.status == status and (await response.json())["error"]["field"] == field


async def test_receiver_counts_on_metrics(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.post("/v1/traces", data=request_for(hops(10)).SerializeToString(), headers=PB)
    await client.post("/v1/traces", data=b"junk", headers={"Content-Type": "text/plain"})
    text = await (await client.get("/metrics")).text()
    assert 'observe_spans_received_total{origin="otlp"} 20.0' in text
    assert 'observe_spans_rejected_total{reason="unsupported_media_type"} 1.0' in text
    assert 'observe_span_pairs_total{outcome="paired"} 10.0' in text
