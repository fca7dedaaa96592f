"""The aiohttp application: create_app(settings) wires sources → services → handlers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from observe import __version__
from observe.api import handlers, keys
from observe.api.middleware import errors_middleware
from observe.model.edge_stats import HealthThresholds
from observe.services.refresh import RefreshPolicy, SnapshotCache
from observe.services.series import SeriesService
from observe.services.telemetry import SelfMetrics
from observe.services.topology import TopologyService
from observe.settings import Settings
from observe.sources.ports import MetricsSource
from observe.sources.prometheus import PrometheusSource


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    source = request.app[keys.METRICS_SOURCE]
    if await source.ready(timeout_s=2.0):
        return web.json_response({"status": "ready", "sources": {source.name: "ok"}})
    return web.json_response(
        {"status": "not ready", "sources": {source.name: f"unreachable at {getattr(source, 'url', '?')}"}},
        status=503,
    )


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[keys.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    settings: Settings,
    *,
    metrics_source: MetricsSource | None = None,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """The API. `metrics_source` defaults to Prometheus at settings.prometheus_url (tests pass a fake)."""
    app = web.Application(middlewares=[errors_middleware])
    self_metrics = SelfMetrics()
    source = metrics_source or PrometheusSource(settings.prometheus_url)
    policy = RefreshPolicy(
        refresh_s=settings.refresh_s,
        percentile_refresh_s=settings.percentile_refresh_s,
        query_timeout_s=settings.query_timeout_s,
        idle_timeout_s=settings.view_idle_timeout_s,
    )
    cache = SnapshotCache(source, policy, self_metrics, clock)
    thresholds = HealthThresholds(settings.healthy_success_rate, settings.degraded_success_rate)
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = self_metrics
    app[keys.METRICS_SOURCE] = source
    app[keys.CLOCK] = clock
    app[keys.TOPOLOGY] = TopologyService(cache, thresholds)
    app[keys.SERIES] = SeriesService(source, settings.query_timeout_s, settings.min_rate_window_s, self_metrics, clock)

    async def background(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(cache.run_background())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await cache.close()
        await source.close()

    app.cleanup_ctx.append(background)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/topology", handlers.topology)
    app.router.add_get("/api/v1/edges/series", handlers.edge_series)
    app.router.add_get("/api/v1/nodes/series", handlers.node_series)
    return app
