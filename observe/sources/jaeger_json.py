"""Jaeger query answers → SpanRecords (pure: parsed JSON in, records out; no I/O).

v1 (`/api/traces`, `/api/traces/{id}`): `{"data": [Trace], ...}` where Trace = `{traceID, spans, processes}`
and a span is `{traceID, spanID, operationName, references[{refType, traceID, spanID}], startTime µs,
duration µs, tags[{key, type, value}], processID}`. The process gives the resource (serviceName → service.name,
its tags → the other resource attributes, as Jaeger maps OTLP); typed tags (string, bool, int64 — beyond 2^53
as a string —, float64, binary as base64) are flattened to text like OTLP attributes, so the same identity
rules apply (observe.model.spans). The span kind is the `span.kind` tag; the parent is the first CHILD_OF
reference in the same trace (else the deprecated `parentSpanID`); 64-bit trace ids are left-padded to 128
bits, as Jaeger does when it converts to OTLP, so v1 and v3 answers give the same ids.

v3 (`/api/v3/traces…`): `{"result": TracesData}` with OTLP/JSON inside → observe.sources.otlp. Errors come
as `{"error": {"httpCode", "message"}}`.
"""

from __future__ import annotations

from typing import Any

from observe.errors import BadQuery
from observe.model.spans import (
    Resource,
    SpanKind,
    SpanRecord,
    attribute_text,
    build_span,
    normalize_span_id,
    normalize_trace_id,
)
from observe.sources.otlp_json import decode_json_document, json_uint
from observe.sources.span_decoding import DecodeResult, SpanCollector

_SPAN_KIND_TAG = "span.kind"


class _Reject(ValueError):
    pass


def decode_v1(document: Any, *, keep_tags: bool = True) -> DecodeResult:
    """A v1 envelope `{"data": [Trace…]}`, a bare list of traces, or one Trace object."""
    if isinstance(document, dict) and "data" in document:
        traces = document["data"]
    elif isinstance(document, dict) and "spans" in document:
        traces = [document]
    else:
        traces = document
    if traces is None:
        return DecodeResult()
    if not isinstance(traces, list):
        raise BadQuery("invalid Jaeger answer: 'data' must be a list of traces")
    out = SpanCollector()
    for trace in traces:
        _decode_trace(trace, out, keep_tags)
    return out.result()


def decode_v3(document: Any, *, keep_tags: bool = True) -> DecodeResult:
    """A v3 answer `{"result": TracesData}` (OTLP/JSON: hex ids, integer enums)."""
    if not isinstance(document, dict):
        raise BadQuery("invalid Jaeger v3 answer: expected an object")
    result = document.get("result")
    if result is None:
        return DecodeResult()
    return decode_json_document(result, keep_tags=keep_tags)


def services_v1(document: Any) -> list[str]:
    """`{"data": ["svc", …], "total": n}` from `/api/services`."""
    return _string_list(document.get("data") if isinstance(document, dict) else None, "data")


def services_v3(document: Any) -> list[str]:
    """`{"services": ["svc", …]}` from `/api/v3/services`."""
    return _string_list(document.get("services") if isinstance(document, dict) else None, "services")


def error_message(document: Any) -> str | None:
    """Jaeger's own words from a v3 `{"error": {...}}` or a v1 `{"errors": [{"code", "msg"}]}` body."""
    if not isinstance(document, dict):
        return None
    error = document.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    errors = document.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("msg") or errors[0])
    return None


def _string_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadQuery(f"invalid Jaeger answer: '{name}' must be a list of strings")
    return sorted(value)


def _decode_trace(trace: Any, out: SpanCollector, keep_tags: bool) -> None:
    if not isinstance(trace, dict):
        raise BadQuery("invalid Jaeger answer: a trace is not an object")
    processes = trace.get("processes")
    processes = {} if processes is None else processes
    if not isinstance(processes, dict):
        raise BadQuery("invalid Jaeger answer: 'processes' must be an object")
    resources = {pid: _resource(process) for pid, process in processes.items()}
    spans = trace.get("spans")
    spans = [] if spans is None else spans
    if not isinstance(spans, list):
        raise BadQuery("invalid Jaeger answer: 'spans' must be a list")
    for span in spans:
        try:
            out.spans.append(_span(span, resources, keep_tags))
        except _Reject as exc:
            out.reject(str(exc))


def _resource(process: Any) -> Resource:
    if not isinstance(process, dict):
        return Resource.from_attributes({})
    attrs = _tags(process.get("tags"))
    if isinstance(process.get("serviceName"), str):
        attrs["service.name"] = process["serviceName"]
    return Resource.from_attributes(attrs)


def _span(span: Any, resources: dict[str, Resource], keep_tags: bool) -> SpanRecord:
    if not isinstance(span, dict):
        raise _Reject("span is not an object")
    trace_id = _id(span.get("traceID"), normalize_trace_id, "trace")
    span_id = _id(span.get("spanID"), normalize_span_id, "span")
    attrs = _tags(span.get("tags"))
    kind = SpanKind.from_name(attrs.pop(_SPAN_KIND_TAG, "") or "UNSPECIFIED")
    try:
        start_us = json_uint(span.get("startTime"), "startTime")
        duration_us = json_uint(span.get("duration"), "duration")
    except ValueError as exc:
        raise _Reject(str(exc)) from None
    resource = resources.get(str(span.get("processID")))
    if resource is None:
        raise _Reject(f"span {span_id} names an unknown process {span.get('processID')!r}")
    operation = span.get("operationName")
    return build_span(
        (trace_id, span_id, _parent(span, trace_id)),
        kind,
        operation if isinstance(operation, str) else "",
        (start_us / 1e6, duration_us / 1e3),
        resource,
        attrs,
        tags=tuple(attrs.items()) if keep_tags else (),
    )


def _id(raw: Any, normalize: Any, what: str) -> str:
    value: str | None = normalize(raw) if isinstance(raw, str) else None
    if value is None:
        raise _Reject(f"invalid {what} id {raw!r}: expected hex")
    return value


def _parent(span: dict[str, Any], trace_id: str) -> str | None:
    references = span.get("references") or []
    for ref in references if isinstance(references, list) else []:
        if not isinstance(ref, dict) or ref.get("refType") != "CHILD_OF":
            continue
        ref_trace = ref.get("traceID")
        if isinstance(ref_trace, str) and normalize_trace_id(ref_trace) == trace_id:
            parent = ref.get("spanID")
            return normalize_span_id(parent) if isinstance(parent, str) else None
    legacy = span.get("parentSpanID")
    return normalize_span_id(legacy) if isinstance(legacy, str) else None


def _tags(raw: Any) -> dict[str, str]:
    """Typed Jaeger tags → text (bool → true/false, numbers as written, binary stays base64)."""
    out: dict[str, str] = {}
    for tag in raw if isinstance(raw, list) else []:
        if isinstance(tag, dict) and isinstance(tag.get("key"), str) and tag.get("value") is not None:
            value = tag["value"]
            if tag.get("type") == "bool" and isinstance(value, str):
                value = value.lower() == "true"
            out[tag["key"]] = attribute_text(value)
    return out
