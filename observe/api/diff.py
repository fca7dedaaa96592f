"""GET /api/v1/diff?a_at=&b_at=&window=&graph=&namespace=: two past windows of the mesh compared (services.diff).

`a_at` (required) is the earlier instant, the baseline; `b_at` the later one (default now). Both are Unix
seconds or RFC 3339, not in the future, and must differ; each refusal is a 400 naming its field.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiMapping

from observe.api import keys, params
from observe.errors import BadQuery
from observe.model.ids import GraphType, parse_namespaces
from observe.services.diff import DiffRequest, diff


def diff_request(query: MultiMapping[str], *, default_window_s: float, now: float) -> DiffRequest:
    params.reject_unknown(query, {"a_at", "b_at", "window", "graph", "namespace"})
    a_at = params.instant(params.single(query, "a_at"), now, name="a_at")
    if a_at is None:
        raise BadQuery("parameter 'a_at' is required: Unix seconds or RFC 3339", field="a_at")
    b_at = params.instant(params.single(query, "b_at"), now, name="b_at")
    b_at = now if b_at is None else b_at
    if a_at == b_at:
        raise BadQuery("a_at and b_at are the same instant: nothing to compare", field="b_at")
    return DiffRequest(
        graph=GraphType.parse(params.single(query, "graph") or GraphType.VERSIONED_APP.value),
        namespaces=parse_namespaces(params.single(query, "namespace")),
        window_s=params.window(params.single(query, "window"), default_window_s),
        a_at=a_at,
        b_at=b_at,
    )


async def diff_handler(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    query = diff_request(request.query, default_window_s=settings.window_s, now=request.app[keys.CLOCK]())
    return web.json_response(await diff(request.app[keys.TOPOLOGY], query))
