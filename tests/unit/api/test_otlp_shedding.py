"""OTLP receiver bounds: a flood is shed with 429 + Retry-After before its body is read; gzip bombs stay capped."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from google.rpc import status_pb2
from prometheus_client import generate_latest

from observe.api import otlp
from observe.api.app import RUNNER_OPTIONS
from observe.services.telemetry import SelfMetrics
from observe.services.traces import TraceService
from tests.unit.api.test_api import ClientFactory
from tests.unit.otlp_requests import Hop, request_for

PB = {"Content-Type": "application/x-protobuf"}
BODY = request_for([Hop(("productpage", "v1"), ("reviews", "v2"), trace=1, hop=0, start_s=1.0, ms=10)])
BODY_BYTES = BODY.SerializeToString()


async def receiver(aiohttp_client: ClientFactory, limits: otlp.ReceiverLimits) -> tuple[TestClient, SelfMetrics]:  # type: ignore[type-arg]
    metrics = SelfMetrics()
    app = web.Application()
    app.router.add_post("/v1/traces", otlp.handler(TraceService(metrics=metrics), metrics, limits))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**{k: v for k, v in RUNNER_OPTIONS.items() if k != "access_log"})
    return await aiohttp_client(server), metrics


async def admitted(metrics: SelfMetrics) -> None:
    """Until a request holds a slot (bounded: 5 s)."""
    for _ in range(500):
        if metrics.otlp_inflight._value.get() > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the slow request was never admitted")


async def test_requests_beyond_the_concurrency_bound_get_429_with_retry_after(aiohttp_client: ClientFactory) -> None:
    client, metrics = await receiver(aiohttp_client, otlp.ReceiverLimits(max_inflight_requests=1, retry_after_s=2))
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield BODY_BYTES[:10]
        await asyncio.wait_for(release.wait(), 10)
        yield BODY_BYTES[10:]

    held = asyncio.create_task(client.post("/v1/traces", data=slow_body(), headers=PB))
    await admitted(metrics)
    shed = await client.post("/v1/traces", data=BODY_BYTES, headers=PB)
    assert shed.status == 429 and shed.headers["Retry-After"] == "2"
    status = status_pb2.Status.FromString(await shed.read())
    assert status.code == 8 and "retry after 2s" in status.message
    release.set()
    assert (await held).status == 200  # read whole although it arrived in two parts
    assert (await client.post("/v1/traces", data=BODY_BYTES, headers=PB)).status == 200  # the slot is free again
    text = generate_latest(metrics.registry).decode()
    assert "observe_otlp_requests_shed_total 1.0" in text and "observe_otlp_inflight_bytes 0.0" in text
    assert 'observe_spans_received_total{origin="otlp"} 4.0' in text


async def test_in_flight_bytes_bound_sheds_large_bodies(aiohttp_client: ClientFactory) -> None:
    limits = otlp.ReceiverLimits(max_inflight_requests=10, max_inflight_bytes=len(BODY_BYTES) + 10)
    client, metrics = await receiver(aiohttp_client, limits)
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield BODY_BYTES[:10]
        await asyncio.wait_for(release.wait(), 10)
        yield BODY_BYTES[10:]

    held = asyncio.create_task(client.post("/v1/traces", data=slow_body(), headers=PB))  # no length: reserves the max
    await admitted(metrics)
    assert (await client.post("/v1/traces", data=BODY_BYTES, headers=PB)).status == 429
    release.set()
    assert (await held).status == 200


async def test_a_gzip_bomb_is_413_and_bounded(aiohttp_client: ClientFactory) -> None:
    limits = otlp.ReceiverLimits(max_decompressed_bytes=1024 * 1024)
    client, metrics = await receiver(aiohttp_client, limits)
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < 128 * 1024
    response = await client.post("/v1/traces", data=bomb, headers={**PB, "Content-Encoding": "gzip"})
    assert response.status == 413
    assert "decompressed body exceeds 1048576 bytes" in status_pb2.Status.FromString(await response.read()).message
    assert 'observe_spans_rejected_total{reason="payload_too_large"} 1.0' in generate_latest(metrics.registry).decode()
