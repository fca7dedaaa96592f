"""JaegerSource against FakeJaegerQuery on loopback: v3 first, v1 fallback, base paths, failures."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from observe.errors import BadQuery, NotFound, SourceUnavailable
from observe.model.ids import GraphType
from observe.model.pairing import PairedRequest, Pairer
from observe.model.spans import SpanRecord
from observe.model.trace_nodes import edge_key
from observe.sources.jaeger import ApiVersion, JaegerSource, rfc3339_nano
from observe.sources.jaeger_json import decode_v1
from observe.sources.otlp import decode_traces
from observe.sources.ports import TraceSource
from tests.fakes.jaeger import FakeJaegerQuery, FakeMode

FIXTURES = Path(__file__).parents[2] / "fixtures" / "telemetry"
BOOKINFO = decode_traces((FIXTURES / "istio-bookinfo-trace.tempo-otlp.json").read_bytes(), "application/json").spans
TRACE_ID = BOOKINFO[0].trace_id
START = min(s.start_s for s in BOOKINFO)


@pytest.fixture
async def source() -> AsyncIterator[list[JaegerSource]]:
    """Sources made by a test, always closed."""
    made: list[JaegerSource] = []
    yield made
    for item in made:
        await item.close()


def client_for(fake: FakeJaegerQuery, made: list[JaegerSource]) -> JaegerSource:
    made.append(JaegerSource(fake.url))
    return made[-1]


def pair_edges(spans: list[SpanRecord]) -> list[tuple[str, str, float, bool]]:
    pairer = Pairer()
    requests: list[PairedRequest] = pairer.add_many(spans, now=0) + pairer.expire(now=1e12)
    keys = [(edge_key(r, GraphType.VERSIONED_APP), r) for r in requests]
    return sorted((source.id, target.id, round(r.latency_ms, 3), r.error) for (source, target), r in keys)


async def test_v3_search_services_and_trace(source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO) as fake:
        jaeger = client_for(fake, source)
        assert await jaeger.services(timeout_s=5) == ["details", "istio-ingressgateway", "productpage", "ratings",
                                                      "reviews"]  # fmt: skip
        assert jaeger.api_version is ApiVersion.V3
        spans = await jaeger.find_traces("reviews", START - 60, START + 60, limit=20, timeout_s=5)
        assert len(spans) == 8 and {s.trace_id for s in spans} == {TRACE_ID}
        assert len(await jaeger.get_trace(TRACE_ID.upper(), timeout_s=5)) == 8
    search = parse_qs(urlsplit(next(r for r in fake.requests if r.startswith("/api/v3/traces?"))).query)
    assert search["query.service_name"] == ["reviews"] and search["query.search_depth"] == ["20"]
    assert search["query.start_time_min"] == ["2023-12-05T12:36:56.570888000Z"]
    assert all(r.startswith("/api/v3/") for r in fake.requests)


async def test_falls_back_to_v1_when_v3_is_absent(source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO, v3=False) as fake:
        jaeger = client_for(fake, source)
        spans = await jaeger.find_traces("productpage", START - 1, START + 1, limit=5, timeout_s=5)
        assert jaeger.api_version is ApiVersion.V1 and len(spans) == 8
        assert len(await jaeger.get_trace(TRACE_ID, timeout_s=5)) == 8
        assert await jaeger.services(timeout_s=5) == sorted({s.service for s in BOOKINFO})
    assert fake.requests[0] == "/api/v3/services"
    search = next(r for r in fake.requests if r.startswith("/api/traces?"))
    assert f"start={int((START - 1) * 1e6)}" in search and "limit=5" in search and "service=productpage" in search


@pytest.mark.parametrize("v3", [True, False])
async def test_base_path_prefix(v3: bool, source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO, v3=v3, base_path="/jaeger") as fake:
        assert fake.url.endswith("/jaeger")
        jaeger = client_for(fake, source)
        assert len(await jaeger.get_trace(TRACE_ID, timeout_s=5)) == 8
    assert all(r.startswith("/jaeger/api/") for r in fake.requests)


@pytest.mark.parametrize("v3", [True, False])
async def test_jaeger_and_otlp_paths_give_the_same_paired_edges(v3: bool, source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO, v3=v3) as fake:
        jaeger = client_for(fake, source)
        from_jaeger = await jaeger.find_traces(None, START - 60, START + 60, limit=10, timeout_s=5)
    assert pair_edges(from_jaeger) == pair_edges(BOOKINFO)
    assert ("bookinfo/productpage/v1", "bookinfo/reviews/v2", 2.724, False) in pair_edges(from_jaeger)


async def test_slow_jaeger_is_unavailable_with_the_timeout_in_words(source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO, delay_s=2.0) as fake:
        fake.mode = FakeMode.SLOW
        jaeger = client_for(fake, source)
        with pytest.raises(SourceUnavailable) as caught:
            await jaeger.find_traces("reviews", START - 1, START + 1, limit=5, timeout_s=0.3)
    assert caught.value.source == "jaeger" and "timeout after 0.3s" in caught.value.message
    assert caught.value.status == 503


async def test_http_500_is_unavailable_with_status_and_path(source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO) as fake:
        jaeger = client_for(fake, source)
        await jaeger.services(timeout_s=5)
        fake.mode = FakeMode.ERROR
        with pytest.raises(SourceUnavailable, match=r"HTTP 500 from /api/v3/traces: internal error"):
            await jaeger.find_traces("reviews", START - 1, START + 1, limit=5, timeout_s=5)
        fresh = client_for(fake, source)
        with pytest.raises(SourceUnavailable, match=r"HTTP 500 from /api/v3/services"):
            await fresh.services(timeout_s=5)


@pytest.mark.parametrize("v3", [True, False])
async def test_empty_jaeger_gives_no_spans(v3: bool, source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO, v3=v3) as fake:
        fake.mode = FakeMode.EMPTY
        jaeger = client_for(fake, source)
        assert await jaeger.services(timeout_s=5) == []
        assert await jaeger.find_traces("reviews", START - 1, START + 1, limit=5, timeout_s=5) == []
        assert await jaeger.find_traces(None, START - 1, START + 1, limit=5, timeout_s=5) == []


@pytest.mark.parametrize("v3", [True, False])
async def test_unknown_and_invalid_trace_ids(v3: bool, source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(BOOKINFO, v3=v3) as fake:
        jaeger = client_for(fake, source)
        with pytest.raises(NotFound) as caught:
            await jaeger.get_trace("0123456789abcdef0123456789abcdef", timeout_s=5)
        assert caught.value.status == 404
        with pytest.raises(BadQuery) as bad:
            await jaeger.get_trace("not-a-trace-id", timeout_s=5)
        assert bad.value.field == "trace_id"


async def test_fixture_traces_served_verbatim_over_v1(source: list[JaegerSource]) -> None:
    async with FakeJaegerQuery(v3=False) as fake:
        fake.raw_v1_traces.append(json.loads((FIXTURES / "jaeger-ui-model-trace.json").read_bytes()))
        jaeger = client_for(fake, source)
        spans = await jaeger.get_trace("0000000000000001", timeout_s=5)
        assert len(spans) == 5 and spans == decode_v1({"data": fake.raw_v1_traces}).spans
        assert await jaeger.services(timeout_s=5) == ["service-x", "service-y"]


async def test_unreachable_jaeger(source: list[JaegerSource]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source.append(JaegerSource(f"http://127.0.0.1:{port}/jaeger/"))
    with pytest.raises(SourceUnavailable, match=r"cannot connect to http://127\.0\.0\.1"):
        await source[-1].services(timeout_s=2)


async def test_search_arguments_are_checked(source: list[JaegerSource]) -> None:
    source.append(JaegerSource("http://127.0.0.1:9"))
    with pytest.raises(BadQuery):
        await source[-1].find_traces("x", 10, 5, limit=5, timeout_s=1)
    with pytest.raises(BadQuery):
        await source[-1].find_traces("x", 0, 5, limit=0, timeout_s=1)


def test_rfc3339_nano_and_port_conformance() -> None:
    assert rfc3339_nano(1701779876.570888) == "2023-12-05T12:37:56.570888000Z"
    assert rfc3339_nano(0) == "1970-01-01T00:00:00.000000000Z"
    port: TraceSource = JaegerSource("http://jaeger:16686")
    assert port.name == "jaeger"
