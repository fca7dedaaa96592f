"""`/readyz`: is this replica able to answer? Yes, as long as it runs — even while Prometheus is down.

Readiness decides whether a pod stays behind its Service. Every replica reads the same Prometheus, so failing
readiness on a Prometheus outage would take all of them out at once, and the UI would go dark exactly during the
incident it is needed for; a replica that serves the last good topology marked stale (`missing` says why) is
useful. So `/readyz` answers 200 with `status: ready | degraded` and each source's state (up or down, the last
error, when it is retried, the last success), and `/healthz` (liveness) only says the process answers. An
operator who wants a gate on Prometheus reads `sources` or alerts on `observe_source_up`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from observe.api import keys
from observe.services.backoff import Backoff

METRICS_BACKOFF = web.AppKey("metrics_backoff", Backoff)
TRACE_BACKOFF = web.AppKey[Backoff | None]("trace_backoff")
PROBE_TIMEOUT_S = 2.0


async def readyz(request: web.Request) -> web.Response:
    source = request.app[keys.METRICS_SOURCE]
    metrics: dict[str, Any] = request.app[METRICS_BACKOFF].describe()
    # While backing off the last failure stands; otherwise ask Prometheus (a cheap /-/ready, not a query).
    if metrics["state"] == "up" and not await source.ready(PROBE_TIMEOUT_S):
        metrics |= {"state": "down", "error": "unreachable: /-/ready did not answer 200"}
    sources = {source.name: metrics}
    trace_backoff = request.app.get(TRACE_BACKOFF)
    if trace_backoff is not None:  # Jaeger: its state as of the last poll (polls run every jaeger_poll)
        sources[trace_backoff.source] = trace_backoff.describe()
    degraded = any(s["state"] != "up" for s in sources.values())
    return web.json_response({
        "status": "degraded" if degraded else "ready",
        "serving": "the last good data, marked stale" if degraded else "live data",
        "sources": sources,
    })  # fmt: skip
