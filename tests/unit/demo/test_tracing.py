"""Spans of the demo mesh: one TracerProvider per workload, W3C context over real HTTP, OTLP/HTTP export."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from observe.demo.faults import Fault
from observe.demo.identity import WorkloadIdentity
from observe.demo.workload import bind_socket
from tests.unit.demo.conftest import MeshFactory


class Exporters:
    """One in-memory exporter per workload (each provider shuts its own exporter down at stop)."""

    def __init__(self) -> None:
        self.by_workload: dict[str, InMemorySpanExporter] = {}

    def __call__(self, identity: WorkloadIdentity) -> SpanExporter:
        return self.by_workload.setdefault(identity.workload, InMemorySpanExporter())

    def spans(self) -> list[ReadableSpan]:
        return [span for exporter in self.by_workload.values() for span in exporter.get_finished_spans()]


async def _get(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        await resp.read()
        return resp.status


def _one(spans: list[ReadableSpan], service: str, kind: SpanKind, peer: str | None = None) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.resource.attributes["service.name"] == service
        and s.kind == kind
        and (peer is None or (s.attributes or {}).get("peer.service") == peer)
    ]
    assert len(found) == 1, (service, kind, peer, len(found))
    return found[0]


async def test_client_and_server_spans_share_the_trace_and_link_up(make_mesh: MeshFactory) -> None:
    exporters = Exporters()
    mesh = await make_mesh(span_exporter_factory=exporters, reviews_weights={"v2": 1})
    assert await _get(mesh.entry_url) == 200
    await mesh.stop()  # flushes every provider
    spans = exporters.spans()

    root = _one(spans, "productpage", SpanKind.SERVER)
    pp_to_reviews = _one(spans, "productpage", SpanKind.CLIENT, peer="reviews")
    pp_to_details = _one(spans, "productpage", SpanKind.CLIENT, peer="details")
    details = _one(spans, "details", SpanKind.SERVER)
    reviews = _one(spans, "reviews", SpanKind.SERVER)
    reviews_to_ratings = _one(spans, "reviews", SpanKind.CLIENT, peer="ratings")
    ratings = _one(spans, "ratings", SpanKind.SERVER)
    assert len(spans) == 7
    assert len({s.context.trace_id for s in spans}) == 1
    assert root.parent is None  # the load generator is outside the mesh and sends no traceparent
    links = [
        (pp_to_details, root),
        (pp_to_reviews, root),
        (details, pp_to_details),
        (reviews, pp_to_reviews),
        (reviews_to_ratings, reviews),
        (ratings, reviews_to_ratings),
    ]
    for child, parent in links:
        assert child.parent is not None and child.parent.span_id == parent.context.span_id
        assert child.parent.is_remote == (child.kind == SpanKind.SERVER)  # server spans come over HTTP
    assert reviews.resource.attributes["service.version"] == "v2"
    assert reviews.resource.attributes["service.namespace"] == "bookinfo"
    assert reviews.resource.attributes["k8s.deployment.name"] == "reviews-v2"
    assert pp_to_reviews.name == "reviews.bookinfo.svc.cluster.local:9080/*"
    assert (pp_to_reviews.attributes or {})["upstream_cluster"] == "outbound|9080|v2|reviews.bookinfo.svc.cluster.local"
    for span in spans:
        assert (span.attributes or {})["http.response.status_code"] == 200
        assert span.status.status_code == StatusCode.UNSET


async def test_5xx_and_unreachable_upstreams_mark_spans_as_errors(make_mesh: MeshFactory) -> None:
    exporters = Exporters()
    mesh = await make_mesh(
        span_exporter_factory=exporters,
        reviews_weights={"v1": 1},
        faults={"details-v1": Fault(error_ratio=1.0, error_code=503), "reviews-v1": Fault(down=True)},
    )
    assert await _get(mesh.entry_url) == 200  # productpage degrades gracefully
    await mesh.stop()
    spans = exporters.spans()
    details_client = _one(spans, "productpage", SpanKind.CLIENT, peer="details")
    details_server = _one(spans, "details", SpanKind.SERVER)
    reviews_client = _one(spans, "productpage", SpanKind.CLIENT, peer="reviews")
    for span, code in ((details_client, 503), (details_server, 503), (reviews_client, 503)):
        assert (span.attributes or {})["http.response.status_code"] == code
        assert span.status.status_code == StatusCode.ERROR
    assert (reviews_client.attributes or {})["response_flags"] == "UF"
    assert not [s for s in spans if s.resource.attributes["service.name"] == "reviews"]


async def test_sampling_ratio_zero_records_nothing_and_no_endpoint_means_no_tracer(make_mesh: MeshFactory) -> None:
    exporters = Exporters()
    mesh = await make_mesh(span_exporter_factory=exporters, sampling_ratio=0.0)
    for _ in range(5):
        assert await _get(mesh.entry_url) == 200
    await mesh.stop()
    assert exporters.spans() == []

    untraced = await make_mesh()
    assert all(untraced.workload(s).sidecar.tracer is None for s in ("productpage-v1", "ratings-v1"))
    assert await _get(untraced.entry_url) == 200


@pytest.fixture
async def collector() -> AsyncIterator[tuple[str, list[tuple[str, bytes]]]]:
    """A loopback OTLP/HTTP receiver recording (content type, body) of each export."""
    received: list[tuple[str, bytes]] = []

    async def traces(request: web.Request) -> web.Response:
        received.append((request.content_type, await request.read()))
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    sock = bind_socket("127.0.0.1")
    await web.SockSite(runner, sock).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1/traces", received
    await runner.cleanup()


async def test_spans_are_exported_over_otlp_http(
    make_mesh: MeshFactory, collector: tuple[str, list[tuple[str, bytes]]]
) -> None:
    endpoint, received = collector
    mesh = await make_mesh(otlp_endpoint=endpoint)
    assert await _get(mesh.entry_url) == 200
    await mesh.stop()
    await asyncio.sleep(0)
    assert received and all(ctype == "application/x-protobuf" for ctype, _ in received)
    services: dict[str, int] = {}
    for _, body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            count = sum(len(scope.spans) for scope in resource_spans.scope_spans)
            services[attrs["service.name"]] = services.get(attrs["service.name"], 0) + count
    assert services["productpage"] == 3  # 1 server + 2 client spans
    assert services["details"] == 1
    assert set(services) >= {"productpage", "details", "reviews"}
