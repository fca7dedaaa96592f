"""Typed keys of what create_app stores on the application."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from observe.services.series import SeriesService
from observe.services.telemetry import SelfMetrics
from observe.services.topology import TopologyService
from observe.settings import Settings
from observe.sources.ports import MetricsSource

SETTINGS = web.AppKey("settings", Settings)
TOPOLOGY = web.AppKey("topology", TopologyService)
SERIES = web.AppKey("series", SeriesService)
METRICS_SOURCE = web.AppKey[MetricsSource]("metrics_source")
METRICS = web.AppKey("metrics", SelfMetrics)
CLOCK = web.AppKey[Callable[[], float]]("clock")
