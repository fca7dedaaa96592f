"""Read endpoints of /api/v1: topology and time series."""

from __future__ import annotations

from aiohttp import web

from observe.api import keys, params
from observe.errors import BadQuery
from observe.model.durations import parse_duration
from observe.model.ids import GraphType, parse_node_id
from observe.services.series import SeriesRequest


async def topology(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    query = params.topology_request(request.query, default_window_s=settings.window_s, now=request.app[keys.CLOCK]())
    return web.Response(body=await request.app[keys.TOPOLOGY].wire_json(query), content_type="application/json")


def _series_request(request: web.Request, subject: set[str]) -> SeriesRequest:
    query = request.query
    params.reject_unknown(query, {"graph", "window", "at", "step", *subject})
    ids = {}
    for name in sorted(subject):
        raw = params.single(query, name)
        if not raw:
            raise BadQuery(f"parameter '{name}' is required: a node id such as bookinfo/reviews/v2", field=name)
        ids[name] = parse_node_id(raw, field=name)
    step = params.single(query, "step")
    return SeriesRequest(
        graph=GraphType.parse(params.single(query, "graph") or GraphType.VERSIONED_APP.value),
        window_s=params.window(params.single(query, "window"), request.app[keys.SETTINGS].window_s),
        at=params.instant(params.single(query, "at"), request.app[keys.CLOCK]()),
        step_s=parse_duration(step, "step", minimum_s=1.0) if step else None,
        **ids,
    )


async def edge_series(request: web.Request) -> web.Response:
    series = request.app[keys.SERIES]
    return web.json_response(await series.series(_series_request(request, {"source", "target"})))


async def node_series(request: web.Request) -> web.Response:
    series = request.app[keys.SERIES]
    return web.json_response(await series.series(_series_request(request, {"node"})))
