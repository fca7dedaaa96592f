"""Typed keys of what create_app stores on the application."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from observe.services.series import SeriesService
from observe.services.telemetry import SelfMetrics
from observe.services.topology import TopologyService
from observe.services.traces import TraceService
from observe.settings import Settings
from observe.sources.ports import MetricsSource, TraceSource

SETTINGS = web.AppKey("settings", Settings)
TOPOLOGY = web.AppKey("topology", TopologyService)
SERIES = web.AppKey("series", SeriesService)
METRICS_SOURCE = web.AppKey[MetricsSource]("metrics_source")
TRACE_SOURCE = web.AppKey[TraceSource | None]("trace_source")
TRACES = web.AppKey("traces", TraceService)
METRICS = web.AppKey("metrics", SelfMetrics)
CLOCK = web.AppKey[Callable[[], float]]("clock")
