"""/api/v1/compare and /api/v1/versions: parameters validated here (400 naming the field), then CompareService.

Namespaces are DNS labels; service and version names are Kubernetes label values (at most 63 characters of
alphanumerics, '-', '_' and '.', starting and ending alphanumeric). They are escaped again in PromQL anyway.
"""

from __future__ import annotations

import re

from aiohttp import web
from multidict import MultiMapping

from observe.api import params
from observe.errors import BadQuery
from observe.model.ids import validate_namespace
from observe.services.compare import CompareRequest, CompareService

COMPARE_SERVICE = web.AppKey("compare", CompareService)
DEFAULT_WINDOW_S = 600.0
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")


def _label_value(query: MultiMapping[str], name: str, example: str) -> str:
    raw = params.single(query, name)
    if not raw:
        raise BadQuery(f"parameter '{name}' is required, e.g. {name}={example}", field=name)
    if not _LABEL_VALUE.match(raw):
        raise BadQuery(f"invalid {name} '{raw}': expected a label value like '{example}'", field=name)
    return raw


def _namespace(query: MultiMapping[str]) -> str:
    raw = params.single(query, "namespace")
    if not raw:
        raise BadQuery("parameter 'namespace' is required, e.g. namespace=bookinfo", field="namespace")
    return validate_namespace(raw)


def compare_request(query: MultiMapping[str], now: float) -> CompareRequest:
    params.reject_unknown(query, {"namespace", "service", "baseline", "canary", "window", "at"})
    namespace = _namespace(query)
    service = _label_value(query, "service", "reviews")
    baseline, canary = _label_value(query, "baseline", "v1"), _label_value(query, "canary", "v2")
    if baseline == canary:
        raise BadQuery("baseline and canary must be different versions", field="canary")
    window = params.window(params.single(query, "window"), DEFAULT_WINDOW_S)
    return CompareRequest(namespace, service, baseline, canary, window, params.instant(params.single(query, "at"), now))


async def compare(request: web.Request) -> web.Response:
    service = request.app[COMPARE_SERVICE]
    return web.json_response(await service.compare(compare_request(request.query, service.clock())))


async def versions(request: web.Request) -> web.Response:
    service = request.app[COMPARE_SERVICE]
    query = request.query
    params.reject_unknown(query, {"namespace", "service", "window", "at"})
    namespace, name = _namespace(query), _label_value(query, "service", "reviews")
    window = params.window(params.single(query, "window"), DEFAULT_WINDOW_S)
    at = params.instant(params.single(query, "at"), service.clock())
    return web.json_response(await service.versions(namespace, name, window, at))


def register_compare_routes(app: web.Application, service: CompareService) -> None:
    app[COMPARE_SERVICE] = service
    app.router.add_get("/api/v1/compare", compare)
    app.router.add_get("/api/v1/versions", versions)
