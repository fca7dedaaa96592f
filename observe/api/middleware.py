"""Middleware: error tree → JSON errors, request ids, access counters. Never a bare 500 page."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from observe.api import keys
from observe.errors import ObserveError

log = logging.getLogger("observe.api")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, code: str, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    try:
        response = await handler(request)
    except ObserveError as exc:
        response = web.json_response(exc.to_wire(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        response = error_response(exc.status, code, exc.text or exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path, request_id)
        response = error_response(500, "internal", f"internal error; request id {request_id}")
    response.headers["X-Request-Id"] = request_id
    request.app[keys.METRICS].http_requests.labels(route, str(response.status)).inc()
    return response
