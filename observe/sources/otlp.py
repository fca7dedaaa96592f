"""OTLP trace decoding: `ExportTraceServiceRequest` bodies → SpanRecords; protobuf here, JSON in otlp_json.

Protobuf: upb parses the body against a wire-compatible subset of the OTLP schema that declares only the
fields read here and keeps each attribute (KeyValue) as raw bytes, so no message object is built per
attribute; a KeyValue is read by a small hand parser for the common `key, {string_value}` encoding (the
opentelemetry-proto classes handle every other encoding), and each distinct encoding is parsed once (bounded
cache: the same pod, status and flags repeat on every span).

Resource attributes are read once per ResourceSpans. A malformed body raises BadQuery; a span with an
invalid id, time or attribute is rejected and counted (OTLP partial success), the rest of the batch decodes.
`keep_tags=False` leaves SpanRecord.tags empty (pairing and statistics do not need them).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from observe.errors import BadQuery, UnsupportedMediaType
from observe.model.spans import Resource, SpanKind, SpanRecord, attribute_text, build_span
from observe.sources.otlp_json import decode_json
from observe.sources.span_decoding import DecodeResult, Reject, SpanCollector

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)
_STATUS_ERROR = 2


def decode_traces(body: bytes, content_type: str, *, keep_tags: bool = True) -> DecodeResult:
    """Decode an OTLP/HTTP `/v1/traces` body. An empty body is an empty, successful request."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in (PROTOBUF, "application/protobuf"):
        return decode_protobuf(body, keep_tags=keep_tags)
    if media == JSON:
        return decode_json(body, keep_tags=keep_tags)
    raise UnsupportedMediaType(
        f"unsupported content type '{content_type}': expected {PROTOBUF} or {JSON}", field="Content-Type"
    )



def _lean_request_class() -> Any:
    """A wire-compatible subset of ExportTraceServiceRequest: only the fields read here, and KeyValues kept
    as raw bytes. upb then allocates no message per attribute (3x faster); the bytes are read below."""
    t = descriptor_pb2.FieldDescriptorProto
    one, many = t.LABEL_OPTIONAL, t.LABEL_REPEATED
    schema: dict[str, tuple[tuple[str, int, int, int, str], ...]] = {
        "Status": (("code", 3, t.TYPE_INT32, one, ""),),
        "Span": (("trace_id", 1, t.TYPE_BYTES, one, ""), ("span_id", 2, t.TYPE_BYTES, one, ""),
                 ("parent_span_id", 4, t.TYPE_BYTES, one, ""), ("name", 5, t.TYPE_STRING, one, ""),
                 ("kind", 6, t.TYPE_INT32, one, ""), ("start_time_unix_nano", 7, t.TYPE_FIXED64, one, ""),
                 ("end_time_unix_nano", 8, t.TYPE_FIXED64, one, ""), ("attributes", 9, t.TYPE_BYTES, many, ""),
                 ("status", 15, t.TYPE_MESSAGE, one, "Status")),
        "ScopeSpans": (("spans", 2, t.TYPE_MESSAGE, many, "Span"),),
        "Resource": (("attributes", 1, t.TYPE_BYTES, many, ""),),
        "ResourceSpans": (("resource", 1, t.TYPE_MESSAGE, one, "Resource"),
                          ("scope_spans", 2, t.TYPE_MESSAGE, many, "ScopeSpans")),
        "Request": (("resource_spans", 1, t.TYPE_MESSAGE, many, "ResourceSpans"),),
    }  # fmt: skip
    file = descriptor_pb2.FileDescriptorProto(name="observe/lean_trace.proto", package="observe.lean")
    file.syntax = "proto3"
    for message_name, fields in schema.items():
        message = file.message_type.add(name=message_name)
        for name, number, kind, label, type_name in fields:
            message.field.add(name=name, number=number, type=kind, label=label,
                              type_name=f".observe.lean.{type_name}" if type_name else None)  # fmt: skip
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("observe.lean.Request"))


_LeanRequest = _lean_request_class()


def decode_protobuf(body: bytes, *, keep_tags: bool = True) -> DecodeResult:
    try:
        request = _LeanRequest.FromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise BadQuery(f"invalid OTLP protobuf body: {exc or 'cannot parse'}", field="body") from None
    out = SpanCollector()
    for resource_spans in request.resource_spans:
        try:
            resource = Resource.from_attributes(dict(_pb_attributes(resource_spans.resource.attributes)))
        except Reject as exc:
            raise BadQuery(f"invalid OTLP protobuf body: resource {exc}", field="body") from None
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                try:
                    out.spans.append(_pb_span(span, resource, keep_tags))
                except Reject as exc:
                    out.reject(str(exc))
    return out.result()


def _pb_span(span: Any, resource: Resource, keep_tags: bool) -> SpanRecord:
    trace_id: bytes = span.trace_id
    span_id: bytes = span.span_id
    if len(trace_id) != 16 or trace_id == _ZERO_TRACE:
        raise Reject(f"invalid trace id: {len(trace_id)} bytes, expected 16 non-zero bytes")
    if len(span_id) != 8 or span_id == _ZERO_SPAN:
        raise Reject(f"invalid span id: {len(span_id)} bytes, expected 8 non-zero bytes")
    parent: bytes = span.parent_span_id
    if parent and len(parent) != 8:
        raise Reject(f"invalid parent span id: {len(parent)} bytes, expected 8")
    start: int = span.start_time_unix_nano
    end: int = span.end_time_unix_nano
    if end < start:
        raise Reject("span ends before it starts")
    pairs = _pb_attributes(span.attributes)
    return build_span(
        (trace_id.hex(), span_id.hex(), parent.hex() if parent and parent != _ZERO_SPAN else None),
        SpanKind.from_number(span.kind),
        span.name,
        (start / 1e9, (end - start) / 1e6),
        resource,
        dict(pairs),
        status_error=span.status.code == _STATUS_ERROR,
        tags=tuple(pairs) if keep_tags else (),
    )


def _pb_attributes(raw_key_values: Iterable[bytes]) -> list[tuple[str, str]]:
    """Encoded KeyValues → (key, text) pairs. Attribute encodings repeat across spans (same pod, same
    status), so each distinct encoding is parsed once and its pair remembered in a bounded cache."""
    cache = _KV_CACHE
    return [cache.get(raw) or _remember(raw) for raw in raw_key_values]


_KV_CACHE: dict[bytes, tuple[str, str]] = {}
_KV_CACHE_MAX = 50_000


def _remember(raw: bytes) -> tuple[str, str]:
    try:
        pair = _parse_key_value(raw)
    except (DecodeError, IndexError, UnicodeDecodeError) as exc:
        raise Reject(f"malformed attribute: {type(exc).__name__}") from None
    if len(_KV_CACHE) >= _KV_CACHE_MAX:
        _KV_CACHE.clear()
    _KV_CACHE[raw] = pair
    return pair


def _parse_key_value(raw: bytes) -> tuple[str, str]:
    """Fast path for the usual encoding `key=1 (string), value=2 {string_value=1}` in field order, with
    one-byte lengths first; anything else (other value types, field order) goes through opentelemetry-proto."""
    size = len(raw)
    if size > 3 and raw[0] == 0x0A and raw[1] < 0x80:
        key_end = 2 + raw[1]
        if size > key_end + 3 and raw[key_end] == 0x12 and raw[key_end + 2] == 0x0A:
            value_size, text_size = raw[key_end + 1], raw[key_end + 3]
            if value_size == size - key_end - 2 < 0x80 and text_size == size - key_end - 4:
                return raw[2:key_end].decode(), raw[key_end + 4 :].decode()
        if key_end < size and raw[key_end] == 0x12:
            value_start, value_end = _length_delimited(raw, key_end)
            if value_end == size and raw[value_start : value_start + 1] == b"\x0a":
                text_start, text_end = _length_delimited(raw, value_start)
                if text_end == value_end:
                    return raw[2:key_end].decode(), raw[text_start:text_end].decode()
    kv = KeyValue.FromString(raw)
    value = _pb_value(kv.value)
    return kv.key, "" if value is None else attribute_text(value)


def _length_delimited(raw: bytes, tag_at: int) -> tuple[int, int]:
    """(start, end) of the payload of the length-delimited field whose tag byte is at `tag_at`."""
    length, shift, pos = 0, 0, tag_at + 1
    while True:
        byte = raw[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    if pos + length > len(raw):
        raise IndexError("length beyond end of attribute")
    return pos, pos + length


def _pb_value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_pb_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, which) if which else None
