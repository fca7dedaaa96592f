"""The aiohttp application: create_app(settings) wires sources → services → handlers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from observe import __version__
from observe.actions.audit import AuditLog
from observe.actions.files import RulesDirectory
from observe.actions.kube import KubeApplier, load_config
from observe.actions.ports import Applier
from observe.api import handlers, health, keys, openapi, otlp, traces
from observe.api.auth import WriteAuth
from observe.api.capabilities import register_capabilities_routes
from observe.api.compare import register_compare_routes
from observe.api.edits import register_edit_routes
from observe.api.middleware import errors_middleware
from observe.api.security import register_security_routes
from observe.api.snapshots import register_incident_routes
from observe.api.traffic import register_traffic_routes
from observe.model.edge_stats import HealthThresholds
from observe.services.backoff import Backoff, BackoffPolicy, GuardedMetricsSource, GuardedTraceSource
from observe.services.compare import CompareService
from observe.services.edits import EditService
from observe.services.refresh import RefreshPolicy, SnapshotCache
from observe.services.rules import RulesProbe
from observe.services.series import SeriesService
from observe.services.telemetry import SelfMetrics
from observe.services.topology import TopologyService
from observe.services.traces import JaegerPolling, TraceLimits, TraceService
from observe.services.traffic import TrafficService
from observe.settings import Settings, kube_environ
from observe.sources.jaeger import JaegerSource
from observe.sources.ports import MetricsSource, TraceSource
from observe.sources.prometheus import PrometheusSource


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": __version__})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[keys.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


# How the apps must be served. Request bodies are decompressed by the handlers that accept them, with a size
# cap (the OTLP receiver); aiohttp's own decompression has none, so it is off.
RUNNER_OPTIONS: dict[str, Any] = {"access_log": None, "auto_decompress": False}


def create_app(
    settings: Settings,
    *,
    metrics_source: MetricsSource | None = None,
    trace_source: TraceSource | None = None,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """The API. Sources default to Prometheus at settings.prometheus_url and, when settings.jaeger_url is set,
    Jaeger there (tests pass fakes)."""
    limits = otlp.ReceiverLimits()
    app = web.Application(middlewares=[errors_middleware], client_max_size=limits.max_body_bytes)
    self_metrics = SelfMetrics()
    answered = self_metrics.prometheus_seconds.observe
    inner = metrics_source or PrometheusSource(
        settings.prometheus_url, gzip=settings.prometheus_gzip, on_answer=answered
    )
    # Every user of the metrics source shares one backoff: a dead Prometheus costs one probe per refresh.
    backoff = Backoff(inner.name, BackoffPolicy(cap_s=settings.refresh_s), self_metrics)
    source = GuardedMetricsSource(inner, backoff)
    if trace_source is None and settings.jaeger_url:
        trace_source = JaegerSource(settings.jaeger_url)
    app[health.TRACE_BACKOFF] = None
    if trace_source is not None:
        trace_backoff = Backoff(trace_source.name, BackoffPolicy(cap_s=settings.jaeger_poll_s), self_metrics)
        trace_source, app[health.TRACE_BACKOFF] = GuardedTraceSource(trace_source, trace_backoff), trace_backoff
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
    app[health.METRICS_BACKOFF] = backoff
    app[keys.CLOCK] = clock
    trace_service = TraceService(TraceLimits(retention_s=settings.trace_retention_s), self_metrics, clock)
    app[keys.TRACES] = trace_service
    app[keys.TRACE_SOURCE] = trace_source
    rules = RulesProbe(source, settings.recording_rules, self_metrics, clock, timeout_s=settings.query_timeout_s)
    app[keys.TOPOLOGY] = TopologyService(cache, thresholds, traces=trace_service, rules=rules)
    compare = CompareService(source, settings.query_timeout_s, clock, trace_store=trace_service.store)
    register_compare_routes(app, compare)
    app[keys.SERIES] = SeriesService(source, settings.query_timeout_s, settings.min_rate_window_s, self_metrics, clock)
    register_incident_routes(app)

    async def background(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(cache.run_background()), asyncio.create_task(trace_service.run_background())]
        if trace_source is not None:
            polling = JaegerPolling(poll_s=settings.jaeger_poll_s, limit=settings.jaeger_limit)
            tasks.append(asyncio.create_task(trace_service.run_polling(trace_source, polling)))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await cache.close()
        await source.close()
        if trace_source is not None:
            await trace_source.close()

    app.cleanup_ctx.append(background)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi.openapi)
    register_capabilities_routes(app)
    app.router.add_get("/api/v1/topology", handlers.topology)
    app.router.add_get("/api/v1/edges/series", handlers.edge_series)
    app.router.add_get("/api/v1/nodes/series", handlers.node_series)
    app.router.add_get("/api/v1/traces", traces.search)
    app.router.add_get("/api/v1/traces/{trace_id}", traces.get_trace)
    app.router.add_post("/v1/traces", otlp.handler(trace_service, self_metrics, limits))
    if settings.rules_dir or settings.kube:
        edits = edit_service(settings, clock)
        register_edit_routes(app, edits, write_auth(settings))
        traffic = TrafficService(edits)
        register_traffic_routes(app, traffic, write_auth(settings))
        compare.traffic_objects = traffic.get  # configured weights and the release strategy in comparisons
        app.on_cleanup.append(lambda _: edits.applier.close())
        register_security_routes(app, edits.applier)
    else:
        register_security_routes(app, None)  # 501 not_enabled, saying how to enable it
    return app


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def edit_service(settings: Settings, clock: Callable[[], float]) -> EditService:
    """Edits go to the Kubernetes API when `kube` is set, else to the rules directory."""
    applier: Applier = (KubeApplier(load_config(settings.kubeconfig, kube_environ())) if settings.kube
                        else RulesDirectory(settings.rules_dir))  # fmt: skip
    return EditService(applier, AuditLog(settings.audit_db), clock)


def write_auth(settings: Settings) -> WriteAuth:
    return WriteAuth(
        enabled=settings.allow_writes,
        token=settings.write_token,
        user_header=settings.auth_header,
        trusted_proxies=_split(settings.trusted_proxies),
        allowed_origins=_split(settings.allowed_origins),
    )


def create_otlp_app(main: web.Application) -> web.Application:
    """A second listener (the OTLP port) that feeds the same trace service as `main`."""
    limits = otlp.ReceiverLimits()
    app = web.Application(client_max_size=limits.max_body_bytes)
    app.router.add_post("/v1/traces", otlp.handler(main[keys.TRACES], main[keys.METRICS], limits))
    return app
