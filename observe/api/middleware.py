"""Middleware: error tree → JSON errors, request ids, access counters and log lines. Never a bare 500 page.

Request ids: a well-formed `X-Request-Id` from the caller (or a proxy) is kept, anything else replaced by a fresh
one; it is echoed in the answer and held in a context variable for the request's lifetime, so every log line
written while handling it — in handlers, services, and threads started with asyncio.to_thread, which copy the
context — carries it (RequestIdFilter adds it to each record). Log lines name the method, the still
percent-encoded path (a decoded one could hold a newline) and the status — never the query, headers or bodies,
so credentials cannot reach a log.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from observe.api import keys
from observe.errors import ObserveError

log = logging.getLogger("observe.api")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # no spaces or control characters: nothing to forge log lines with


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (`-` outside a request) for formatters to print."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def error_response(status: int, code: str, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    supplied = request.headers.get("X-Request-Id", "")
    request_id = supplied if _VALID_ID.match(supplied) else uuid.uuid4().hex[:16]
    token = REQUEST_ID.set(request_id)
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    started = time.perf_counter()
    try:
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
            log.exception("unhandled error on %s %s", request.method, request.rel_url.raw_path)
            response = error_response(500, "internal", f"internal error; request id {request_id}")
        response.headers["X-Request-Id"] = request_id
        request.app[keys.METRICS].http_requests.labels(route, str(response.status)).inc()
        log.debug("%s %s %d %.1fms", request.method, request.rel_url.raw_path, response.status,
                 (time.perf_counter() - started) * 1000)  # fmt: skip
        return response
    finally:
        REQUEST_ID.reset(token)
