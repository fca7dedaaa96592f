"""A synthetic Istio exporter: a large mesh's standard series without any traffic, for scale tests and benchmarks.

The mesh: `services` apps spread round-robin over `namespaces` (`ns-0`, `ns-1`, …), one workload each
(`svc-7-v1`, version v1), and `edges` distinct caller → callee pairs drawn with a seeded RNG. Per edge, the
series the two sidecars of a real mesh would expose, with the istio_stats filter's label sets
(observe.demo.istio_metrics, so the labels match the demo mesh's):
  - istio_requests_total from both reporters: code 200, plus 503 on one edge in ten and 404 on one in twenty;
    one edge in fifty also has requests the client's sidecar rejected (UO, circuit breaker), reported only by
    the source with destination_workload "unknown", so they appear on an edge to the callee's service node;
  - istio_request_duration_milliseconds _bucket/_sum/_count with Envoy's default buckets, destination-reported
    only (neither observe nor a Kiali graph at its defaults reads source-reported histograms, and they would
    double the largest family).
Each edge has a fixed rate and a log-normal latency drawn from the seed, and every counter is `rate × seconds
since the exporter's epoch` (floored, cumulative buckets from the latency CDF), so consecutive scrapes always
give the same non-zero rates and percentiles. Exposition: the text of each series up to its value is rendered
once; a scrape formats one number per series and joins.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp import web

from observe.demo.identity import WorkloadIdentity
from observe.demo.istio_metrics import (
    ENVOY_BUCKETS,
    REQUEST_DURATION,
    REQUESTS_TOTAL,
    destination_labels,
    envoy_le,
    source_labels,
)

METRICS_PATH = "/metrics"
HEAD_START_S = 600.0  # counters read as if the mesh had been running this long, so the first scrape is not 0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_SIGMA = 0.6  # of every edge's log-normal latency (its median is drawn per edge)


@dataclass(frozen=True)
class SyntheticConfig:
    services: int = 200
    edges: int = 1000
    namespaces: int = 10
    seed: int = 1

    def __post_init__(self) -> None:
        if self.services < 2:
            raise ValueError("services must be at least 2")
        if not 1 <= self.namespaces <= self.services:
            raise ValueError("namespaces must be between 1 and the number of services")
        if not 1 <= self.edges <= self.services * (self.services - 1):
            raise ValueError("edges must be between 1 and services × (services − 1)")


@dataclass(frozen=True)
class SyntheticEdge:
    caller: int
    callee: int
    rps: float
    error_share: float  # of responses: 503
    not_found_share: float  # of responses: 404
    rejected_rps: float  # UO at the caller's sidecar, never reaching the callee
    median_ms: float


def identity(service: int, config: SyntheticConfig) -> WorkloadIdentity:
    app = f"svc-{service}"
    return WorkloadIdentity(f"{app}-v1", app, "v1", f"ns-{service % config.namespaces}", app)


def draw_edges(config: SyntheticConfig) -> list[SyntheticEdge]:
    rng = random.Random(config.seed)
    pairs: dict[tuple[int, int], None] = {}  # insertion-ordered set: the draw order is the seed's
    while len(pairs) < config.edges:
        caller, callee = rng.randrange(config.services), rng.randrange(config.services)
        if caller != callee:
            pairs[caller, callee] = None
    return [
        SyntheticEdge(caller, callee, rps=round(rng.uniform(0.5, 50.0), 3),
                      error_share=rng.uniform(0.005, 0.08) if i % 10 == 0 else 0.0,
                      not_found_share=0.02 if i % 20 == 0 else 0.0,
                      rejected_rps=0.5 if i % 50 == 0 else 0.0, median_ms=rng.uniform(5.0, 200.0))
        for i, (caller, callee) in enumerate(pairs)
    ]  # fmt: skip


def _render(name: str, labels: dict[str, str]) -> str:
    # Label values here are workload names, FQDNs and principals: nothing that needs escaping.
    inner = ",".join(f'{key}="{value}"' for key, value in labels.items() if value)  # empty = absent, as Envoy
    return f"{name}{{{inner}}} "


def _lognormal_cdf(value_ms: float, median_ms: float) -> float:
    return 0.5 * (1.0 + math.erf(math.log(value_ms / median_ms) / (LATENCY_SIGMA * math.sqrt(2.0))))


class SyntheticMesh:
    """The series of a synthetic mesh: each one's rendered text up to its value, and its per-second increase."""

    def __init__(self, config: SyntheticConfig, epoch_s: float | None = None) -> None:
        self.config = config
        self.edges = draw_edges(config)
        self.epoch_s = (time.time() if epoch_s is None else epoch_s) - HEAD_START_S
        families: dict[str, list[tuple[str, float]]] = {REQUESTS_TOTAL: [], REQUEST_DURATION: []}
        for edge in self.edges:
            for family, one in self._edge_series(edge):
                families[family].append(one)
        # One bytes object per series up to its value, family headers included (a prefix of the first series
        # of each family): a scrape is one b"".join of prefixes and formatted values.
        self._prefixes: list[bytes] = []
        self._slopes: list[float] = []
        for family, all_series in families.items():
            kind = "counter" if family == REQUESTS_TOTAL else "histogram"
            header = f"# TYPE {family} {kind}\n"
            for i, (prefix, slope) in enumerate(all_series):
                self._prefixes.append(((header if i == 0 else "") + prefix).encode())
                self._slopes.append(slope)
        self._lock = threading.Lock()
        self._cached: tuple[int, bytes] = (-1, b"")

    def _edge_series(self, edge: SyntheticEdge) -> Iterator[tuple[str, tuple[str, float]]]:
        caller, callee = identity(edge.caller, self.config), identity(edge.callee, self.config)
        codes = {"200": 1.0 - edge.error_share - edge.not_found_share, "503": edge.error_share,
                 "404": edge.not_found_share}  # fmt: skip
        for code, share in codes.items():
            if share > 0:
                rps = edge.rps * share
                yield REQUESTS_TOTAL, (_render(REQUESTS_TOTAL, destination_labels(callee, caller, code)), rps)
                labels = source_labels(caller, callee.service, callee, callee.principal, code)
                yield REQUESTS_TOTAL, (_render(REQUESTS_TOTAL, labels), rps)
        if edge.rejected_rps:
            labels = source_labels(caller, callee.service, None, None, "503", "UO")
            yield REQUESTS_TOTAL, (_render(REQUESTS_TOTAL, labels), edge.rejected_rps)
        for code, share in codes.items():
            if share > 0:
                yield from self._histogram(destination_labels(callee, caller, code), edge.rps * share, edge.median_ms)

    def _histogram(
        self, labels: dict[str, str], rps: float, median_ms: float
    ) -> Iterator[tuple[str, tuple[str, float]]]:
        for bound in ENVOY_BUCKETS:
            slope = rps * _lognormal_cdf(bound, median_ms)
            yield REQUEST_DURATION, (_render(f"{REQUEST_DURATION}_bucket", {**labels, "le": envoy_le(bound)}), slope)
        yield REQUEST_DURATION, (_render(f"{REQUEST_DURATION}_bucket", {**labels, "le": "+Inf"}), rps)
        mean_ms = median_ms * math.exp(LATENCY_SIGMA**2 / 2)
        yield REQUEST_DURATION, (_render(f"{REQUEST_DURATION}_sum", labels), rps * mean_ms)
        yield REQUEST_DURATION, (_render(f"{REQUEST_DURATION}_count", labels), rps)

    @property
    def series_count(self) -> int:
        return len(self._prefixes)

    def exposition(self, now_s: float) -> bytes:
        """The text exposition at `now_s`: every counter is floor(slope × seconds since the epoch).

        Rendered at most once per whole second (concurrent scrapes of a slow render share it)."""
        elapsed = int(max(0.0, now_s - self.epoch_s))
        with self._lock:
            if self._cached[0] != elapsed:
                parts: list[bytes] = [b""] * (2 * len(self._prefixes))
                parts[0::2] = self._prefixes
                parts[1::2] = [b"%d\n" % (slope * elapsed) for slope in self._slopes]
                self._cached = elapsed, b"".join(parts)
            return self._cached[1]


class SyntheticExporter:
    """Serves a SyntheticMesh on loopback (the shape DemoMesh offers the demo: scrape_targets, metrics_path).

    Each scrape is rendered in a worker thread, so a large mesh does not stall the event loop it shares."""

    metrics_path = METRICS_PATH

    def __init__(self, config: SyntheticConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mesh = SyntheticMesh(config)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(METRICS_PATH, self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _: web.Request) -> web.Response:
        body = await asyncio.to_thread(self.mesh.exposition, time.time())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    @property
    def scrape_targets(self) -> list[str]:
        return [f"{self.host}:{self.port}"]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{METRICS_PATH}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--services", type=int, default=SyntheticConfig.services, help="apps in the synthetic mesh")
    parser.add_argument("--edges", type=int, default=SyntheticConfig.edges, help="caller → callee pairs")
    parser.add_argument("--namespaces", type=int, default=SyntheticConfig.namespaces, help="namespaces")
    parser.add_argument("--seed", type=int, default=SyntheticConfig.seed, help="seed of the mesh's shape and rates")


def config_from(args: argparse.Namespace) -> SyntheticConfig:
    return SyntheticConfig(services=args.services, edges=args.edges, namespaces=args.namespaces, seed=args.seed)


async def _serve(config: SyntheticConfig, port: int) -> None:
    exporter = SyntheticExporter(config, port=port)
    await exporter.start()
    print(f"{exporter.url} {exporter.mesh.series_count} series", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await exporter.stop()


def main() -> None:
    """`python -m observe.demo.synthetic`: the exporter alone, in its own process (the benchmarks run it so)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(config_from(args), args.port))


if __name__ == "__main__":
    main()
