"""Trace endpoints: OTLP-fed search and one trace's spans (the data a waterfall needs)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from observe.api import keys, params
from observe.errors import BadQuery
from observe.model.durations import parse_duration
from observe.model.ids import GraphType, parse_node_id
from observe.model.spans import SpanRecord
from observe.model.trace_store import TraceQuery, TraceSummary

MAX_LIMIT = 1000


def _limit(raw: str | None) -> int:
    if raw is None:
        return 20
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadQuery(f"invalid limit '{raw}': expected a whole number from 1 to {MAX_LIMIT}", field="limit")
    return int(raw)


def _flag(raw: str | None, field: str) -> bool:
    if raw is None or raw.lower() in ("false", "0", "no", ""):
        return False
    if raw.lower() in ("true", "1", "yes"):
        return True
    raise BadQuery(f"invalid {field} '{raw}': expected true or false", field=field)


def _edge(raw: str | None) -> tuple[Any, Any] | None:
    if not raw:
        return None
    source, sep, target = raw.partition("->")
    if not sep:
        raise BadQuery(f"invalid edge '{raw}': expected <source id>-><target id>", field="edge")
    return parse_node_id(source.strip(), "edge"), parse_node_id(target.strip(), "edge")


def trace_query(request: web.Request) -> TraceQuery:
    query = request.query
    params.reject_unknown(query, {"service", "edge", "graph", "min_duration", "errors", "limit", "window", "at"})
    now = request.app[keys.CLOCK]()
    end = params.instant(params.single(query, "at"), now) or now
    window = params.window(params.single(query, "window"), request.app[keys.SETTINGS].window_s)
    min_duration = params.single(query, "min_duration")
    return TraceQuery(
        start_s=end - window,
        end_s=end,
        service=params.single(query, "service") or None,
        edge=_edge(params.single(query, "edge")),
        graph=GraphType.parse(params.single(query, "graph") or GraphType.VERSIONED_APP.value),
        min_duration_ms=parse_duration(min_duration, "min_duration") * 1000 if min_duration else 0.0,
        errors_only=_flag(params.single(query, "errors"), "errors"),
        limit=_limit(params.single(query, "limit")),
    )


def summary_to_wire(s: TraceSummary) -> dict[str, Any]:
    return {"trace_id": s.trace_id, "root_service": s.root_service, "root_operation": s.root_operation,
            "start_s": s.start_s, "duration_ms": s.duration_ms, "span_count": s.span_count, "error": s.error,
            "services": list(s.services)}  # fmt: skip


def span_to_wire(s: SpanRecord) -> dict[str, Any]:
    return {"span_id": s.span_id, "parent_id": s.parent_id, "service": s.service, "version": s.version,
            "namespace": s.namespace, "workload": s.workload, "operation": s.operation,
            "kind": s.kind.name.lower(), "start_s": s.start_s, "duration_ms": round(s.duration_ms, 3),
            "status_code": s.status_code, "error": s.error, "response_flags": s.response_flags,
            "peer": s.peer.service if s.peer else None, "tags": dict(s.tags)}  # fmt: skip


async def search(request: web.Request) -> web.Response:
    found = request.app[keys.TRACES].search(trace_query(request))
    return web.json_response({"traces": [summary_to_wire(s) for s in found], "missing": []})


async def get_trace(request: web.Request) -> web.Response:
    spans = await request.app[keys.TRACES].get(request.match_info["trace_id"], request.app[keys.TRACE_SOURCE])
    return web.json_response({"trace_id": spans[0].trace_id, "spans": [span_to_wire(s) for s in spans]})
