"""Jaeger with FakeJaegerQuery's error and slow modes: failures back off (the fake sees no requests while the
delay lasts), readiness reports Jaeger down but stays 200, and Jaeger answering again clears it."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from observe.api.app import create_app
from observe.errors import SourceUnavailable
from observe.services.backoff import Backoff, GuardedTraceSource
from observe.settings import Settings
from observe.sources.jaeger import JaegerSource
from tests.fakes.jaeger import FakeJaegerQuery, FakeMode
from tests.fakes.metrics import FakeMetricsSource
from tests.unit.api.test_api import ClientFactory

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_failing_jaeger_is_backed_off_and_reported_until_it_answers(aiohttp_client: ClientFactory) -> None:
    async with FakeJaegerQuery() as jaeger:
        app = create_app(Settings(jaeger_poll="1h"), metrics_source=FakeMetricsSource(),
                         trace_source=JaegerSource(jaeger.url))  # fmt: skip
        client: TestClient = await aiohttp_client(app)  # type: ignore[type-arg]
        jaeger.mode = FakeMode.ERROR
        first = await client.get(f"/api/v1/traces/{TRACE_ID}")
        assert first.status == 503 and "500" in (await first.json())["error"]["message"]
        sent = len(jaeger.requests)
        again = await client.get(f"/api/v1/traces/{TRACE_ID}")  # within the first delay: Jaeger is not asked
        assert again.status == 503 and "retried in" in (await again.json())["error"]["message"]
        assert len(jaeger.requests) == sent
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200 and body["status"] == "degraded"
        assert body["sources"]["jaeger"]["state"] == "down" and body["sources"]["prometheus"]["state"] == "up"

        jaeger.mode = FakeMode.NORMAL
        for _ in range(50):  # bounded: the first delay is under a second
            answer = await client.get(f"/api/v1/traces/{TRACE_ID}")
            if answer.status != 503:
                break
            await asyncio.sleep(0.1)
        assert answer.status == 404  # Jaeger answered (it has no such trace): alive again
        body = await (await client.get("/readyz")).json()
        assert body["status"] == "ready" and body["sources"]["jaeger"]["state"] == "up"


async def test_slow_jaeger_times_out_in_words_and_is_backed_off() -> None:
    async with FakeJaegerQuery(delay_s=2.0) as jaeger:
        source = GuardedTraceSource(JaegerSource(jaeger.url), Backoff("jaeger"))
        jaeger.mode = FakeMode.SLOW
        try:
            with pytest.raises(SourceUnavailable, match="timeout"):
                await source.get_trace(TRACE_ID, timeout_s=0.3)
            sent = len(jaeger.requests)
            with pytest.raises(SourceUnavailable, match="retried in"):
                await source.find_traces(None, 0.0, 1.0, 10, timeout_s=0.3)
            assert len(jaeger.requests) == sent and source.backoff.describe()["state"] == "down"
        finally:
            await source.close()
