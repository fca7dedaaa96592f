"""The demo mesh scraped by a real Prometheus: every Bookinfo edge shows up with both reporters, the duration
histogram has Envoy's 20 buckets, and the counted traffic matches what the load generator sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from observe.demo.identity import bookinfo_edges
from observe.demo.istio_metrics import ENVOY_BUCKETS, envoy_le
from observe.demo.mesh import DemoMesh, MeshConfig
from observe.demo.prometheus import PrometheusProcess

pytestmark = pytest.mark.integration

RPS = 20.0
SCRAPE_S = 1.0
WAIT_S = 20.0


@pytest.fixture
async def scraped_mesh() -> AsyncIterator[tuple[DemoMesh, PrometheusProcess]]:
    mesh = DemoMesh(MeshConfig(rps=RPS, seed=5))
    await mesh.start()
    prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path, scrape_interval_s=SCRAPE_S)
    try:
        await prometheus.start(timeout_s=20)
        yield mesh, prometheus
    finally:
        await prometheus.stop()
        await mesh.stop()


async def _query(session: aiohttp.ClientSession, prometheus: PrometheusProcess, promql: str) -> list[Any]:
    async with session.get(f"{prometheus.url}/api/v1/query", params={"query": promql}) as resp:
        body = await resp.json()
    assert resp.status == 200 and body["status"] == "success", body
    result: list[Any] = body["data"]["result"]
    return result


async def _wait_for_edges(session: aiohttp.ClientSession, prometheus: PrometheusProcess) -> set[tuple[str, ...]]:
    wanted = {(src, dst, reporter) for src, dst in bookinfo_edges() for reporter in ("source", "destination")}
    seen: set[tuple[str, ...]] = set()
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        rows = await _query(
            session, prometheus, "sum by (source_workload, destination_workload, reporter) (istio_requests_total)"
        )
        seen = {
            (r["metric"]["source_workload"], r["metric"]["destination_workload"], r["metric"]["reporter"]) for r in rows
        }
        if wanted <= seen:
            return seen
        await asyncio.sleep(0.5)
    pytest.fail(f"edges missing from Prometheus after {WAIT_S}s: {sorted(wanted - seen)}")


async def test_prometheus_sees_every_edge_with_both_reporters(
    scraped_mesh: tuple[DemoMesh, PrometheusProcess],
) -> None:
    mesh, prometheus = scraped_mesh
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        seen = await _wait_for_edges(session, prometheus)
        assert ("unknown", "productpage-v1", "destination") in seen  # the load generator, outside the mesh
        assert not {edge for edge in seen if edge[0] == "reviews-v1"}  # reviews-v1 calls nobody

        rows = await _query(session, prometheus, "group by (le) (istio_request_duration_milliseconds_bucket)")
        assert {r["metric"]["le"] for r in rows} == {envoy_le(b) for b in ENVOY_BUCKETS} | {"+Inf"}
        assert len(rows) == 20

        await asyncio.sleep(3 * SCRAPE_S)  # a few more samples for rate()
        [entry] = await _query(
            session,
            prometheus,
            'sum(istio_requests_total{reporter="destination", destination_workload="productpage-v1"})',
        )
        counted = float(entry["value"][1])
        stats = mesh.load_stats()
        assert stats.by_code.get("200", 0) > 0 and stats.errors == {}
        # The last scrape is at most one interval old: what Prometheus counted trails what was sent.
        assert stats.sent - RPS * (SCRAPE_S + 2) <= counted <= stats.sent

        [rate] = await _query(
            session,
            prometheus,
            'sum(rate(istio_requests_total{reporter="destination", destination_workload="productpage-v1"}[4s]))',
        )
        assert 0.6 * RPS <= float(rate["value"][1]) <= 1.4 * RPS
