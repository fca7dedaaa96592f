"""PromQL injection, proved against the real Prometheus: label values with quotes, backslashes, newlines, `"}` and
regex metacharacters select exactly themselves, through observe.sources.promql and through the API.

A small exporter serves Istio-shaped series whose service names are the hostile values, each beside decoys that
an unescaped query would also match (`aXb` for `a.b`, `a` and `c` for `a|c`, everything for `.*` or for a value
that closes the selector and appends `or …`). Each service gets its own request rate, so a single answer that
mixed in a decoy shows up as the wrong number, not just as an extra label.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from observe.api.app import create_app
from observe.cli.serve import start_site
from observe.demo.prometheus import PrometheusProcess
from observe.settings import Settings
from observe.sources.istio_queries import REQUESTS
from observe.sources.prometheus import PrometheusSource
from observe.sources.promql import OneOf, eq, selector

pytestmark = pytest.mark.asyncio(loop_scope="module")
NS = "inj"
HOSTILE = {  # service name → requests per second
    'q"uote': 1.0, "back\\slash": 2.0, 'x"}': 3.0, "a.b": 4.0, "a|c": 5.0, ".*": 6.0, "line\nbreak": 7.0,
    'z"} or istio_requests_total{reporter="destination': 8.0, "trail\\": 9.0,
}  # fmt: skip
DECOYS = {"x": 50.0, "aXb": 60.0, "a": 70.0, "c": 80.0, "z": 90.0, "trail": 100.0}
RATES = HOSTILE | DECOYS


def _exposition_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Exporter:
    """istio_requests_total{reporter="destination", …} for every service in RATES, growing at its rate."""

    def __init__(self) -> None:
        self.started = time.time()

    async def metrics(self, request: web.Request) -> web.Response:
        elapsed = time.time() - self.started
        lines = [f"# TYPE {REQUESTS} counter"]
        for i, (service, rate) in enumerate(RATES.items()):
            labels = {"reporter": "destination", "source_workload_namespace": NS, "source_workload": "client",
                      "source_canonical_service": "client", "source_canonical_revision": "v1",
                      "destination_workload_namespace": NS, "destination_workload": f"w{i}",
                      "destination_canonical_service": service, "destination_canonical_revision": "v1",
                      "destination_service": f"w{i}.{NS}.svc.cluster.local", "request_protocol": "http",
                      "response_code": "200", "response_flags": "-"}  # fmt: skip
            rendered = ",".join(f'{k}="{_exposition_value(v)}"' for k, v in labels.items())
            lines.append(f"{REQUESTS}{{{rendered}}} {rate * elapsed:.3f}")
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


@dataclass
class World:
    prometheus: PrometheusProcess
    source: PrometheusSource
    api_url: str
    http: aiohttp.ClientSession


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    exporter = web.Application()
    exporter.router.add_get("/metrics", Exporter().metrics)
    exporter_runner, exporter_port = await start_site(exporter, "127.0.0.1", 0)
    prometheus = PrometheusProcess([f"127.0.0.1:{exporter_port}"], "/metrics", scrape_interval_s=1.0)
    await prometheus.start()
    settings = Settings(prometheus_url=prometheus.url, scrape_interval="1s", port=0)
    api_runner, api_port = await start_site(create_app(settings), "127.0.0.1", 0)
    source = PrometheusSource(prometheus.url)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        try:
            world = World(prometheus, source, f"http://127.0.0.1:{api_port}", http)
            for _ in range(60):  # bounded: until a full 10s rate window of scrapes exists for every service
                full = f"count_over_time({REQUESTS}[10s]) >= 10"
                if len(await source.query(full, time.time(), 5)) == len(RATES):
                    break
                await asyncio.sleep(0.5)
            yield world
        finally:
            await source.close()
            await api_runner.cleanup()
            await prometheus.stop()
            await exporter_runner.cleanup()


def _services(samples: list[Any]) -> set[str]:
    return {s.labels["destination_canonical_service"] for s in samples}


@pytest.mark.parametrize("service", sorted(HOSTILE))
async def test_escaped_selectors_match_only_the_literal_value(world: World, service: str) -> None:
    now = time.time()
    exact = selector(REQUESTS, [eq("destination_canonical_service", service)])
    regex = selector(REQUESTS, [OneOf("destination_canonical_service", (service,))])
    for expr in (exact, regex, f"sum by (destination_canonical_service) (rate({exact}[10s]))"):
        assert _services(await world.source.query(expr, now, 5)) == {service}, expr
    rate = await world.source.query(f"sum(rate({regex}[10s]))", now, 5)
    assert rate[0].value == pytest.approx(HOSTILE[service], rel=0.25)


async def test_the_same_values_unescaped_would_match_more(world: World) -> None:
    """The decoys are live: pasted raw, the regex values select other services (so the tests above can fail)."""
    now = time.time()
    raw = await world.source.query(f'{REQUESTS}{{destination_canonical_service=~"a.b|a|c"}}', now, 5)
    assert _services(raw) == {"a.b", "aXb", "a", "c"}


@pytest.mark.parametrize("service", sorted(s for s in HOSTILE if "\n" not in s))  # node ids refuse control chars
async def test_node_series_through_the_api_reads_only_that_service(world: World, service: str) -> None:
    node = f"{NS}/{service}/v1"
    query = urllib.parse.urlencode({"node": node, "window": "20s", "step": "2s"})
    async with world.http.get(f"{world.api_url}/api/v1/nodes/series?{query}") as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body["node"] == node and body["missing"] == []
    rps = [v for _, v in body["series"]["rps"] if v]
    assert rps and rps[-1] == pytest.approx(HOSTILE[service], rel=0.25)  # a decoy would add 50 to 100 rps


async def test_topology_keeps_hostile_names_as_text(world: World) -> None:
    async with world.http.get(f"{world.api_url}/api/v1/topology", params={"namespace": NS, "window": "10s"}) as r:
        body = await r.json()
    targets = {e["target"]: e["rps"] for e in body["edges"]}
    for service, rate in RATES.items():
        assert targets[f"{NS}/{service}/v1"] == pytest.approx(rate, rel=0.25)
