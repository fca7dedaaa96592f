"""Soak: the demo mesh + a real Prometheus + `observe serve` (its own process), 20 concurrent API clients and span
ingest for a bounded time, with Prometheus stopped in the middle and started again on the same port.

Prints the API process's RSS over time, the answers by status (5xx must be 0), how the topology looked during
the outage (served stale, with `missing`), and the time from Prometheus being ready again to the first fresh
topology. Everything is on 127.0.0.1; every loop stops at the deadline. `python -m benchmarks.soak --minutes 3`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.ingest import build_request
from observe.demo.mesh import DemoMesh, MeshConfig
from observe.demo.prometheus import PrometheusProcess, free_port

WINDOW = "30s"
CLIENTS = 20
SCRAPE_S = 2.0
# Short, so the trace store reaches its steady size early in the run and RSS growth after that means a leak.
TRACE_RETENTION = "1m"
READS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/topology", {"window": WINDOW}),
    ("/api/v1/topology", {"window": "1m", "graph": "app"}),
    ("/api/v1/topology", {"window": WINDOW, "graph": "workload", "namespace": "bookinfo"}),
    ("/api/v1/nodes/series", {"node": "bookinfo/reviews/v2", "window": "2m"}),
    ("/api/v1/edges/series", {"source": "bookinfo/productpage/v1", "target": "bookinfo/reviews/v1", "window": "2m"}),
    ("/api/v1/traces", {"service": "reviews", "limit": "20", "window": "1m"}),
    ("/api/v1/compare", {"namespace": "bookinfo", "service": "reviews", "baseline": "v1", "canary": "v2"}),
    ("/readyz", {}),
]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # transport errors (never expected)
    stale_answers: int = 0
    spans_posted: int = 0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, RSS MiB)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def client(http: aiohttp.ClientSession, api: str, deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        path, params = rng.choice(READS)
        try:
            async with http.get(api + path, params=params) as response:
                tally.statuses[response.status] += 1
                if path == "/api/v1/topology" and response.status == 200 and (await response.json())["stale"]:
                    tally.stale_answers += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.errors[type(exc).__name__] += 1
        await asyncio.sleep(rng.uniform(0.05, 0.25))


async def ingest(http: aiohttp.ClientSession, api: str, deadline: float, tally: Tally) -> None:
    """Extra OTLP load beside the mesh's own spans: a 100-trace protobuf batch every half second."""
    while time.monotonic() < deadline:
        body = build_request(100, time.time() - 1, seed=tally.spans_posted).SerializeToString()
        async with http.post(api + "/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}) as r:
            tally.statuses[r.status] += 1
            tally.spans_posted += 600 if r.status == 200 else 0
        await asyncio.sleep(0.5)


async def sample_rss(pid: int, started: float, deadline: float, tally: Tally, every_s: float) -> None:
    while time.monotonic() < deadline:
        tally.samples.append((time.monotonic() - started, rss_mib(pid)))
        await asyncio.sleep(every_s)


async def fresh_topology(http: aiohttp.ClientSession, api: str, timeout_s: float) -> float | None:
    """Seconds until the topology is fresh (edges, not stale, nothing missing); None past `timeout_s`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        async with http.get(api + "/api/v1/topology", params={"window": WINDOW}) as response:
            body = await response.json()
        if body["edges"] and not body["stale"] and not body["missing"]:
            return time.monotonic() - began
        await asyncio.sleep(0.25)
    return None


async def soak(minutes: float) -> dict[str, Any]:
    total_s = minutes * 60
    outage_s = max(20.0, total_s / 10)
    api_port, prom_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    mesh = DemoMesh(MeshConfig(rps=20.0, seed=11, otlp_endpoint=f"{api}/v1/traces"))
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "observe", "serve", "--port", str(api_port), "--prometheus-url",
        f"http://127.0.0.1:{prom_port}", "--log-format", "json", "--trace-retention", TRACE_RETENTION,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    prometheus: PrometheusProcess | None = None
    tally = Tally()
    figures: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        try:
            for _ in range(100):  # bounded: until the API answers
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(api + "/healthz") as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.2)
            await mesh.start()
            prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path, scrape_interval_s=SCRAPE_S,
                                           port=prom_port)  # fmt: skip
            await prometheus.start()
            figures["first_fresh_topology_s"] = await fresh_topology(http, api, 60)
            started = time.monotonic()
            deadline = started + total_s
            tasks = [asyncio.create_task(client(http, api, deadline, tally, seed)) for seed in range(CLIENTS)]
            tasks += [asyncio.create_task(ingest(http, api, deadline, tally)),
                      asyncio.create_task(sample_rss(server.pid, started, deadline, tally, max(5.0, total_s / 30)))]
            await asyncio.sleep(max(0.0, total_s / 2 - outage_s / 2))
            await prometheus.stop()
            stopped_at = time.monotonic()
            await asyncio.sleep(outage_s)
            prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path, scrape_interval_s=SCRAPE_S,
                                           port=prom_port)  # fmt: skip
            await prometheus.start()
            figures["outage_s"] = round(time.monotonic() - stopped_at, 1)
            recovery = await fresh_topology(http, api, 120)
            figures["recovery_after_prometheus_ready_s"] = None if recovery is None else round(recovery, 1)
            await asyncio.gather(*tasks)
            async with http.get(api + "/metrics") as r:
                figures["self_metrics"] = [
                    line for line in (await r.text()).splitlines()
                    if line.startswith(("observe_source_calls_total", "observe_otlp_requests_shed_total",
                                        "observe_spans_received_total", "observe_spans_dropped_total"))
                ]  # fmt: skip
        finally:
            if prometheus is not None:
                await prometheus.stop()
            await mesh.stop()
            server.terminate()
            await asyncio.wait_for(server.wait(), 20)
    rss = [mib for _, mib in tally.samples]
    half = len(rss) // 2
    return {
        **figures,
        "minutes": minutes,
        "requests": sum(tally.statuses.values()),
        "statuses": dict(sorted(tally.statuses.items())),
        "server_errors_5xx": sum(n for status, n in tally.statuses.items() if status >= 500),
        "transport_errors": dict(tally.errors),
        "stale_topology_answers": tally.stale_answers,
        "extra_spans_posted": tally.spans_posted,  # besides the mesh's own spans
        "rss_mib": [[round(t), round(m, 1)] for t, m in tally.samples],
        "rss_first_half_max_mib": round(max(rss[:half] or [0.0]), 1),
        "rss_second_half_max_mib": round(max(rss[half:] or [0.0]), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    args = parser.parse_args()
    if not 0.5 <= args.minutes <= 120:
        parser.error("--minutes must be between 0.5 and 120")
    result = asyncio.run(soak(args.minutes))
    for t, mib in result["rss_mib"]:
        print(f"t={t:5d}s  RSS {mib:7.1f} MiB")
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mib"}, indent=2))
    sys.exit(1 if result["server_errors_5xx"] or result["recovery_after_prometheus_ready_s"] is None else 0)


if __name__ == "__main__":
    main()
