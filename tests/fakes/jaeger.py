"""FakeJaegerQuery: a small, honest fake of Jaeger's query service (HTTP, 127.0.0.1, a free port), for tests.

It serves the real answer formats from SpanRecords (or verbatim v1 Trace objects from fixtures):
v1 `/api/services`, `/api/traces?service=&start=&end=&limit=` (µs), `/api/traces/{id}` as the
`{"data": [...], "total", "limit", "offset", "errors"}` envelope; v3 (unless `v3=False`, like Jaeger 1.x)
`/api/v3/services`, `/api/v3/traces?query.*` and `/api/v3/traces/{id}` as `{"result": TracesData}` in
OTLP/JSON (hex ids, integer enums), 404 `{"error": {...}}` when nothing matches — all under an optional base
path (`/jaeger`, as Istio's addon). Modes: `slow` (answers after `delay_s`), `error` (HTTP 500 text, as Go's
http.Error writes it), `empty` (no services, no traces). It is a fake: no storage, no tag queries.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from aiohttp import web

from observe.model.ids import UNKNOWN
from observe.model.spans import SpanKind, SpanRecord


class FakeMode(Enum):
    NORMAL = "normal"
    SLOW = "slow"
    ERROR = "error"
    EMPTY = "empty"


class FakeJaegerQuery:
    def __init__(self, spans: Sequence[SpanRecord] = (), *, v3: bool = True, base_path: str = "",
                 delay_s: float = 2.0) -> None:  # fmt: skip
        self.spans = list(spans)
        self.raw_v1_traces: list[dict[str, Any]] = []  # verbatim Jaeger Trace objects (fixtures)
        self.v3 = v3
        self.base_path = base_path.rstrip("/")
        self.delay_s = delay_s
        self.mode = FakeMode.NORMAL
        self.requests: list[str] = []  # path?query of every request, in order
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeJaegerQuery:
        app = web.Application(middlewares=[self._modes])
        routes = {"/api/services": self._services_v1, "/api/traces": self._search_v1,
                  "/api/traces/{trace_id}": self._trace_v1}  # fmt: skip
        if self.v3:
            routes |= {"/api/v3/services": self._services_v3, "/api/v3/traces": self._search_v3,
                       "/api/v3/traces/{trace_id}": self._trace_v3}  # fmt: skip
        for path, handler in routes.items():
            app.router.add_get(self.base_path + path, handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{self.base_path}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _modes(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if self.mode is FakeMode.SLOW:
            await asyncio.sleep(self.delay_s)
        if self.mode is FakeMode.ERROR:
            return web.Response(status=500, text="internal error: storage unavailable\n")
        response: web.StreamResponse = await handler(request)
        return response

    # -- data -----------------------------------------------------------------------------------------

    def _traces(self) -> dict[str, list[SpanRecord]]:
        traces: dict[str, list[SpanRecord]] = defaultdict(list)
        for span in [] if self.mode is FakeMode.EMPTY else self.spans:
            traces[span.trace_id].append(span)
        return traces

    def _service_names(self) -> list[str]:
        if self.mode is FakeMode.EMPTY:
            return []
        names = {span.service for span in self.spans}
        names |= {p["serviceName"] for t in self.raw_v1_traces for p in t["processes"].values()}
        return sorted(names)

    def _search(self, service: str, start_s: float, end_s: float, limit: int) -> list[list[SpanRecord]]:
        found = [spans for spans in self._traces().values()
                 if any(s.service == service and start_s <= s.start_s <= end_s for s in spans)]  # fmt: skip
        found.sort(key=lambda spans: min(s.start_s for s in spans), reverse=True)
        return found[:limit]

    # -- v1 -------------------------------------------------------------------------------------------

    async def _services_v1(self, request: web.Request) -> web.Response:
        names = self._service_names()
        return web.json_response({"data": names, "total": len(names), "limit": 0, "offset": 0, "errors": None})

    async def _search_v1(self, request: web.Request) -> web.Response:
        query = request.query
        if "service" not in query:
            return web.Response(status=400, text="parameter 'service' is required\n")
        start = int(query.get("start", "0")) / 1e6
        end = int(query.get("end", str(2**53))) / 1e6
        traces = [v1_trace(t) for t in self._search(query["service"], start, end, int(query.get("limit", "100")))]
        if self.mode is not FakeMode.EMPTY:
            traces += [t for t in self.raw_v1_traces
                       if any(p["serviceName"] == query["service"] for p in t["processes"].values())]  # fmt: skip
        return web.json_response(_envelope(traces))

    async def _trace_v1(self, request: web.Request) -> web.Response:
        wanted = request.match_info["trace_id"].lower().rjust(32, "0")
        spans = self._traces().get(wanted)
        raw = [t for t in self.raw_v1_traces if t["traceID"].rjust(32, "0") == wanted]
        if self.mode is FakeMode.EMPTY or (not spans and not raw):
            body = _envelope(None) | {"errors": [{"code": 404, "msg": "trace not found", "traceID": wanted}]}
            return web.json_response(body, status=404)
        return web.json_response(_envelope([v1_trace(spans)] if spans else raw[:1]))

    # -- v3 -------------------------------------------------------------------------------------------

    async def _services_v3(self, request: web.Request) -> web.Response:
        return web.json_response({"services": self._service_names()})

    async def _search_v3(self, request: web.Request) -> web.Response:
        query = request.query
        if "query.start_time_min" not in query or "query.start_time_max" not in query:
            return _v3_error(400, "query.start_time_min and query.start_time_max are required")
        start = datetime.fromisoformat(query["query.start_time_min"]).timestamp()
        end = datetime.fromisoformat(query["query.start_time_max"]).timestamp()
        limit = int(query.get("query.search_depth") or query.get("query.num_traces") or "100")
        found = self._search(query.get("query.service_name", ""), start, end, limit)
        if not found:
            return _v3_error(404, "No traces found")
        return web.json_response({"result": otlp_json([s for spans in found for s in spans])})

    async def _trace_v3(self, request: web.Request) -> web.Response:
        spans = self._traces().get(request.match_info["trace_id"].lower().rjust(32, "0"))
        if not spans:
            return _v3_error(404, "trace not found")
        return web.json_response({"result": otlp_json(spans)})


# -- encoders (the formats Jaeger writes) ---------------------------------------------------------------


def _envelope(data: Any) -> dict[str, Any]:
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def _v3_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"httpCode": status, "message": message}}, status=status)


def _resource_attributes(span: SpanRecord) -> dict[str, str]:
    attrs = {"service.name": span.service, "service.namespace": span.namespace}
    if span.version != UNKNOWN:
        attrs["service.version"] = span.version
    if span.workload != UNKNOWN:
        attrs["k8s.deployment.name"] = span.workload
    return attrs


def v1_trace(spans: Sequence[SpanRecord]) -> dict[str, Any]:
    """A Jaeger UI-model Trace: processes keyed p1, p2…; `span.kind` as a tag; all tags typed string."""
    processes: dict[tuple[tuple[str, str], ...], str] = {}
    out_spans = []
    for span in spans:
        resource = tuple(_resource_attributes(span).items())
        pid = processes.setdefault(resource, f"p{len(processes) + 1}")
        tags: list[dict[str, Any]] = [{"key": k, "type": "string", "value": v} for k, v in span.tags]
        if span.kind is not SpanKind.UNSPECIFIED:
            tags.append({"key": "span.kind", "type": "string", "value": span.kind.name.lower()})
        if span.error and not any(k == "error" for k, _ in span.tags):
            tags.append({"key": "error", "type": "bool", "value": True})
        refs = [{"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_id}] if span.parent_id else []
        out_spans.append({
            "traceID": span.trace_id, "spanID": span.span_id, "operationName": span.operation, "references": refs,
            "startTime": round(span.start_s * 1e6), "duration": round(span.duration_ms * 1e3), "tags": tags,
            "logs": [], "processID": pid, "warnings": None,
        })  # fmt: skip
    return {
        "traceID": spans[0].trace_id,
        "spans": out_spans,
        "processes": {pid: {"serviceName": dict(resource)["service.name"],
                            "tags": [{"key": k, "type": "string", "value": v}
                                     for k, v in resource if k != "service.name"]}
                      for resource, pid in processes.items()},
        "warnings": None,
    }  # fmt: skip


def otlp_json(spans: Sequence[SpanRecord]) -> dict[str, Any]:
    """TracesData in OTLP/JSON as Jaeger's v3 API writes it: hex ids, integer kind, int64 as strings."""
    by_resource: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        start_ns = round(span.start_s * 1e6) * 1000
        encoded: dict[str, Any] = {
            "traceId": span.trace_id, "spanId": span.span_id, "name": span.operation, "kind": span.kind.value,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + round(span.duration_ms * 1e6)),
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in span.tags],
            "status": {"code": 2} if span.error else {},
        }  # fmt: skip
        if span.parent_id:
            encoded["parentSpanId"] = span.parent_id
        by_resource[tuple(_resource_attributes(span).items())].append(encoded)
    return {"resourceSpans": [
        {"resource": {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in resource]},
         "scopeSpans": [{"scope": {}, "spans": encoded}]}
        for resource, encoded in by_resource.items()
    ]}  # fmt: skip
