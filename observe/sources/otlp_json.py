"""OTLP/JSON trace decoding, walked by hand following the OTLP specification.

Not protobuf's json_format, which reads the spec's hex ids as base64. Accepted: lowerCamelCase keys (snake_case
too), hex ids (base64 too, as Tempo and plain proto JSON write them), enums as integers or names, int64 as
strings or numbers; unknown fields are ignored. Tempo's `{"batches": [...]}` and Jaeger v3's `TracesData` are
the same list of ResourceSpans and decode the same way. Container-level type errors raise BadQuery; a bad id,
time or attribute rejects only its span.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from observe.errors import BadQuery
from observe.model.spans import (
    EXTRACTED_KEYS,
    Resource,
    SpanKind,
    SpanRecord,
    attribute_text,
    build_span,
    normalize_span_id,
    normalize_trace_id,
)
from observe.sources.span_decoding import DecodeResult, Reject, SpanCollector

_STATUS_ERROR = 2


def decode_json(body: bytes, *, keep_tags: bool = True) -> DecodeResult:
    if not body.strip():
        return DecodeResult()
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadQuery(f"invalid OTLP/JSON body: {exc}", field="body") from None
    return decode_json_document(document, keep_tags=keep_tags)


def decode_json_document(document: Any, *, keep_tags: bool = True) -> DecodeResult:
    """An ExportTraceServiceRequest / TracesData object (or Tempo's `{"batches": [...]}`), already parsed."""
    if not isinstance(document, dict):
        raise BadQuery("invalid OTLP/JSON body: expected an object with 'resourceSpans'", field="body")
    batches = _first(document, "resourceSpans", "resource_spans")
    batches = document.get("batches") if batches is None else batches
    out = SpanCollector()
    for resource_spans in _list(batches, "resourceSpans"):
        if not isinstance(resource_spans, dict):
            raise BadQuery("invalid OTLP/JSON body: a resourceSpans entry is not an object", field="body")
        resource_doc = resource_spans.get("resource") or {}
        resource_attrs = _json_attributes(_dict(resource_doc, "resource").get("attributes"), True)
        resource = Resource.from_attributes(resource_attrs)
        scopes = _first(resource_spans, "scopeSpans", "scope_spans")
        for scope_spans in _list(scopes, "scopeSpans"):
            for span in _list(_dict(scope_spans, "scopeSpans").get("spans"), "spans"):
                try:
                    out.spans.append(_json_span(span, resource, keep_tags))
                except Reject as exc:
                    out.reject(str(exc))
    return out.result()


def _first(document: Mapping[str, Any], camel: str, snake: str) -> Any:
    value = document.get(camel)
    return document.get(snake) if value is None else value


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadQuery(f"invalid OTLP/JSON body: '{name}' must be a list", field="body")
    return value


def _dict(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadQuery(f"invalid OTLP/JSON body: '{name}' must be an object", field="body")
    return value


def _json_span(span: Any, resource: Resource, keep_tags: bool) -> SpanRecord:
    if not isinstance(span, dict):
        raise Reject("span is not an object")
    trace_id = normalize_trace_id(_json_id(_first(span, "traceId", "trace_id"), 16, "trace"))
    span_id = normalize_span_id(_json_id(_first(span, "spanId", "span_id"), 8, "span"))
    if trace_id is None or span_id is None:
        raise Reject("invalid trace or span id: all zeros")
    parent_raw = _first(span, "parentSpanId", "parent_span_id")
    parent = normalize_span_id(_json_id(parent_raw, 8, "parent span")) if parent_raw else None
    start = json_uint(_first(span, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano")
    end = json_uint(_first(span, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano")
    if end < start:
        raise Reject("span ends before it starts")
    status = span.get("status") or {}
    error = isinstance(status, dict) and _enum(status.get("code"), "status code") in (_STATUS_ERROR, "ERROR")
    name = span.get("name")
    attrs = _json_attributes(span.get("attributes"), keep_tags)
    return build_span(
        (trace_id, span_id, parent),
        _kind(span.get("kind")),
        name if isinstance(name, str) else "",
        (start / 1e9, (end - start) / 1e6),
        resource,
        attrs,
        status_error=error,
        tags=tuple(attrs.items()) if keep_tags else (),
    )


def _json_id(raw: Any, size: int, what: str) -> str:
    """Hex per the OTLP spec (any case); base64 as plain proto JSON writes it. Returns lowercase hex."""
    if isinstance(raw, str):
        if len(raw) == 2 * size:
            try:
                return bytes.fromhex(raw).hex()
            except ValueError:
                pass
        try:
            decoded = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) == size:
            return decoded.hex()
    raise Reject(f"invalid {what} id {raw!r}: expected {2 * size} hex characters")


def json_uint(raw: Any, name: str) -> int:
    """int64/uint64 field: a decimal string or a JSON number; absent = 0."""
    if raw is None:
        return 0
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    if isinstance(raw, str) and raw.isdecimal():
        return int(raw)
    if isinstance(raw, float) and raw.is_integer() and raw >= 0:
        return int(raw)
    raise Reject(f"invalid {name} {raw!r}: expected a non-negative integer")


def _enum(raw: Any, name: str) -> int | str:
    """An enum as a number, a numeric string or its name (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`)."""
    if raw is None:
        return 0
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        return int(raw) if raw.isdecimal() else raw.upper().rsplit("_", 1)[-1]
    raise Reject(f"invalid {name} {raw!r}")


def _kind(raw: Any) -> SpanKind:
    value = _enum(raw, "span kind")
    return SpanKind.from_number(value) if isinstance(value, int) else SpanKind.from_name(value)


def _json_attributes(raw: Any, keep_all: bool) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise Reject("'attributes' must be a list")
    out: dict[str, str] = {}
    for kv in raw:
        try:
            key, value = kv["key"], kv["value"]
            text = value.get("stringValue")
        except (TypeError, KeyError, AttributeError):
            continue  # an ill-typed attribute is skipped, not the span
        if type(key) is not str or (not keep_all and key not in EXTRACTED_KEYS):
            continue
        if type(text) is str:
            out[key] = text
            continue
        try:
            python = _any_value(value)
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        if python is not None:
            out[key] = attribute_text(python)
    return out


def _any_value(value: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue as a Python value (None when empty); raises on ill-typed content."""
    for name, inner in value.items():
        kind = _ANY_KINDS.get(name)
        if kind in ("string", "bytes"):
            if not isinstance(inner, str):
                raise TypeError(f"{name} must be a string")
            return inner
        if kind == "bool":
            return inner is True or (isinstance(inner, str) and inner.lower() == "true")
        if kind == "int":
            return int(inner)
        if kind == "double":
            return float(inner)
        if kind == "array":
            return [_any_value(v) for v in inner.get("values") or []]
        if kind == "kvlist":
            return {kv["key"]: _any_value(kv.get("value") or {}) for kv in inner.get("values") or []}
    return None


_ANY_KINDS = {
    f"{kind}Value" if i == 0 else f"{kind}_value": kind
    for kind in ("string", "bool", "int", "double", "array", "kvlist", "bytes")
    for i in (0, 1)
}
