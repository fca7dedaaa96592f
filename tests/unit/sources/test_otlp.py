"""OTLP decoding: real-format fixtures, protobuf round trips, the OTLP/JSON rules, malformed input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from observe.errors import BadQuery, UnsupportedMediaType
from observe.model.ids import GraphType
from observe.model.pairing import Pairer
from observe.model.spans import SpanKind
from observe.model.trace_nodes import edge_key
from observe.sources.otlp import decode_traces

FIXTURES = Path(__file__).parents[2] / "fixtures" / "telemetry"
PB, JSON = "application/x-protobuf", "application/json"
TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN = bytes.fromhex("eee19b7ec3c1b174")


def bookinfo_body() -> bytes:
    return (FIXTURES / "istio-bookinfo-trace.tempo-otlp.json").read_bytes()


def bookinfo_protobuf() -> bytes:
    batches = json.loads(bookinfo_body())["batches"]
    encoded: bytes = json_format.ParseDict({"resourceSpans": batches}, ExportTraceServiceRequest()).SerializeToString()
    return encoded


def edges(body: bytes, content_type: str, graph: GraphType = GraphType.VERSIONED_APP) -> set[tuple[str, str]]:
    pairer = Pairer()
    requests = pairer.add_many(decode_traces(body, content_type).spans, now=0) + pairer.expire(now=1e12)
    return {tuple(node.id for node in edge_key(r, graph)) for r in requests}  # type: ignore[misc]


def request_with(*spans: Span, resource: dict[str, str] | None = None) -> bytes:
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    for key, value in (resource or {"service.name": "shop"}).items():
        resource_spans.resource.attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))
    resource_spans.scope_spans.add().spans.extend(spans)
    encoded: bytes = message.SerializeToString()
    return encoded


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, encoded by hand."""
    length, varint = len(payload), b""
    while length >= 0x80:
        varint += bytes([length & 0x7F | 0x80])
        length >>= 7
    return bytes([number << 3 | 2]) + varint + bytes([length]) + payload


def pb_span(**fields: Any) -> Span:
    base: dict[str, Any] = {"trace_id": TRACE, "span_id": SPAN, "name": "GET /", "kind": Span.SPAN_KIND_SERVER,
                            "start_time_unix_nano": 1_544_712_660_000_000_000,
                            "end_time_unix_nano": 1_544_712_661_000_000_000}  # fmt: skip
    return Span(**(base | fields))


# -- real-format fixtures -------------------------------------------------------------------------------


def test_istio_bookinfo_trace_gives_the_bookinfo_edges_with_versions() -> None:
    result = decode_traces(bookinfo_body(), JSON)
    assert len(result.spans) == 8 and result.rejected == 0
    assert edges(bookinfo_body(), JSON) == {
        ("istio-system/istio-ingressgateway/latest", "bookinfo/productpage/v1"),
        ("bookinfo/productpage/v1", "bookinfo/details/v1"),
        ("bookinfo/productpage/v1", "bookinfo/reviews/v2"),
        ("bookinfo/reviews/v2", "bookinfo/ratings/v1"),
    }
    assert ("bookinfo/wl/reviews-v2", "bookinfo/wl/ratings-v1") in edges(bookinfo_body(), JSON, GraphType.WORKLOAD)


def test_bookinfo_latencies_are_the_client_span_durations() -> None:
    pairer = Pairer()
    requests = pairer.add_many(decode_traces(bookinfo_body(), JSON).spans, now=0)
    latency = {edge_key(r, GraphType.APP)[1].app: r.latency_ms for r in requests}
    assert latency == pytest.approx({"productpage": 11.932, "reviews": 2.724, "details": 1.334, "ratings": 0.850})


def test_protobuf_round_trip_of_the_bookinfo_trace_decodes_identically() -> None:
    from_json = decode_traces(bookinfo_body(), JSON).spans
    from_pb = decode_traces(bookinfo_protobuf(), PB).spans
    assert from_pb == from_json
    assert from_pb[0].trace_id == "3ba55609c3cde49649cd77d1f9dcd936"  # base64 "O6VWCcPN5JZJzXfR+dzZNg=="


def test_otlp_json_fixture_with_hex_ids_and_integer_kind() -> None:
    result = decode_traces((FIXTURES / "otlp-json-traces-request.json").read_bytes(), JSON + "; charset=utf-8")
    assert len(result.spans) == 2  # the fixture repeats one span; the decoder does not deduplicate
    span = result.spans[0]
    assert (span.trace_id, span.span_id, span.parent_id) == (
        "83a9efd15c1c98a977e0711cc93ee28b", "e127af99e3b3e074", "909541b92cf05311")  # fmt: skip
    assert span.kind is SpanKind.SERVER and span.service == "telemetrygen" and span.duration_ms == pytest.approx(0.123)
    assert dict(span.tags)["peer.service"] == "telemetrygen-client"


# -- protobuf -------------------------------------------------------------------------------------------


def test_protobuf_attributes_of_every_type_flatten_like_json() -> None:
    long_url = "http://reviews:9080/" + "x" * 300  # a length that needs a two-byte varint
    attrs = [
        KeyValue(key="http.url", value=AnyValue(string_value=long_url)),
        KeyValue(key="http.response.status_code", value=AnyValue(int_value=503)),
        KeyValue(key="retry", value=AnyValue(bool_value=True)),
        KeyValue(key="ratio", value=AnyValue(double_value=0.25)),
        KeyValue(key="list", value=AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="a")]))),
        KeyValue(key="blob", value=AnyValue(bytes_value=b"\x00\x01")),
    ]
    (span,) = decode_traces(request_with(pb_span(attributes=attrs)), PB).spans
    tags = dict(span.tags)
    assert tags == {"http.url": long_url, "http.response.status_code": "503", "retry": "true", "ratio": "0.25",
                    "list": '["a"]', "blob": "AAE="}  # fmt: skip
    assert span.status_code == 503 and span.error


@pytest.mark.parametrize("key_size", [1, 127, 128, 200])
@pytest.mark.parametrize("value_size", [0, 1, 123, 124, 125, 126, 127, 128, 129, 300, 20_000])
def test_hand_parsed_attributes_match_protobuf_for_every_length(key_size: int, value_size: int) -> None:
    key, value = "k" * key_size, "é" * (value_size // 2) + "v" * (value_size % 2)
    attrs = [KeyValue(key=key, value=AnyValue(string_value=value))]
    (span,) = decode_traces(request_with(pb_span(attributes=attrs)), PB).spans
    assert span.tags == ((key, value),)


def test_protobuf_key_value_in_unusual_field_order_takes_the_slow_path() -> None:
    value = AnyValue(string_value="v9").SerializeToString()
    reordered = b"\x12" + bytes([len(value)]) + value + b"\x0a\x0bservice.tag"  # value field before key field
    raw_span = pb_span().SerializeToString() + field(9, reordered)  # Span.attributes
    (span,) = decode_traces(field(1, field(2, field(2, raw_span))), PB).spans
    assert dict(span.tags) == {"service.tag": "v9"}


def test_protobuf_kind_status_parent_and_times() -> None:
    parent = bytes.fromhex("00f067aa0ba902b7")
    spans = decode_traces(request_with(
        pb_span(kind=Span.SPAN_KIND_CLIENT, parent_span_id=parent, status=Status(code=Status.STATUS_CODE_ERROR)),
    ), PB).spans  # fmt: skip
    (span,) = spans
    assert span.kind is SpanKind.CLIENT and span.parent_id == "00f067aa0ba902b7" and span.error
    assert span.start_s == pytest.approx(1_544_712_660.0) and span.duration_ms == pytest.approx(1000.0)


def test_keep_tags_false_keeps_identity_and_drops_tags() -> None:
    full = decode_traces(bookinfo_protobuf(), PB).spans
    lean = decode_traces(bookinfo_protobuf(), PB, keep_tags=False).spans
    assert all(s.tags == () for s in lean)
    assert [(s.service, s.version, s.workload, s.peer, s.status_code) for s in lean] == [
        (s.service, s.version, s.workload, s.peer, s.status_code) for s in full]  # fmt: skip


def test_protobuf_spans_with_invalid_ids_or_times_are_rejected_and_counted() -> None:
    body = request_with(
        pb_span(),
        pb_span(trace_id=TRACE[:15]),
        pb_span(span_id=bytes(8)),
        pb_span(parent_span_id=b"\x01\x02"),
        pb_span(end_time_unix_nano=1),
    )
    result = decode_traces(body, PB)
    assert len(result.spans) == 1 and result.rejected == 4
    assert any("trace id" in e for e in result.errors) and any("ends before" in e for e in result.errors)


def test_protobuf_span_with_a_malformed_attribute_is_rejected_alone() -> None:
    corrupt = pb_span(span_id=b"\x02" * 8).SerializeToString() + b"\x4a\x04\x0a\x05ab"  # key overruns its field
    scope = field(2, pb_span().SerializeToString()) + field(2, corrupt)
    body = field(1, field(2, scope))  # request.resource_spans[0].scope_spans[0].spans
    with pytest.raises(Exception, match="corrupt"):
        ExportTraceServiceRequest.FromString(body)  # the full schema refuses the whole batch …
    result = decode_traces(body, PB)  # … the decoder keeps the good span (OTLP partial success)
    assert len(result.spans) == 1 and result.rejected == 1 and "malformed attribute" in result.errors[0]


@pytest.mark.parametrize("body", [b"\xff\xff\xff\xff", b"\x0a\x05\x0a", b"not a protobuf at all \x00\x01"])
def test_garbage_protobuf_is_a_bad_query(body: bytes) -> None:
    with pytest.raises(BadQuery, match="invalid OTLP protobuf body"):
        decode_traces(body, PB)


# -- OTLP/JSON ------------------------------------------------------------------------------------------


def json_body(*spans: Any) -> bytes:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"scope": {"name": "x"}, "spans": list(spans)}]}]}).encode()  # fmt: skip


def json_span(**fields: Any) -> dict[str, Any]:
    return {"traceId": TRACE.hex().upper(), "spanId": SPAN.hex(), "name": "GET", "kind": 2,
            "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000"} | fields  # fmt: skip


def test_json_follows_the_otlp_spec_not_proto_json() -> None:
    (span,) = decode_traces(json_body(json_span(
        kind="SPAN_KIND_CLIENT", startTimeUnixNano=1544712660000000000, status={"code": "STATUS_CODE_ERROR"},
        attributes=[{"key": "n", "value": {"intValue": "42"}}, {"key": "b", "value": {"boolValue": False}},
                    {"key": "d", "value": {"doubleValue": 1.5}}, {"key": "empty", "value": {}},
                    {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": 1}}]}}},
                    {"key": "bad", "value": {"intValue": "x"}}, "junk"],
        unknownField={"ignored": True},
    )), JSON).spans  # fmt: skip
    assert span.trace_id == TRACE.hex() and span.kind is SpanKind.CLIENT and span.error
    assert dict(span.tags) == {"n": "42", "b": "false", "d": "1.5", "kv": '{"a":1}'}


def test_json_accepts_base64_ids_and_tempo_batches() -> None:
    tempo = {"batches": [{"resource": {}, "scopeSpans": [{"spans": [json_span(
        traceId="W47/95gDgQPSabYzgT/GDA==", spanId="7uGbfsPBsXQ=", kind="SPAN_KIND_SERVER")]}]}]}  # fmt: skip
    (span,) = decode_traces(json.dumps(tempo).encode(), JSON).spans
    assert (span.trace_id, span.span_id) == (TRACE.hex(), SPAN.hex())


def test_json_spans_with_bad_ids_or_times_are_rejected_and_counted() -> None:
    body = json_body(
        json_span(),
        json_span(traceId="5B8EFFF7"),
        json_span(spanId=12),
        json_span(traceId="0" * 32),
        json_span(parentSpanId="zz"),
        json_span(startTimeUnixNano="soon"),
        json_span(endTimeUnixNano="1"),
        json_span(kind=[2]),
        "not a span",
    )
    result = decode_traces(body, JSON)
    assert len(result.spans) == 1 and result.rejected == 8 and len(result.errors) == 8


@pytest.mark.parametrize(
    "body",
    [b'{"resourceSpans": [{"resource"', b"\xff\xfe", b"[1, 2]", b'{"resourceSpans": 5}',
     b'{"resourceSpans": [7]}', b'{"resourceSpans": [{"scopeSpans": {"spans": []}}]}',
     b'{"resourceSpans": [{"scopeSpans": [{"spans": 3}]}]}'],
)  # fmt: skip
def test_malformed_json_is_a_bad_query(body: bytes) -> None:
    with pytest.raises(BadQuery, match="invalid OTLP/JSON body"):
        decode_traces(body, JSON)


@pytest.mark.parametrize(("body", "content_type"), [(b"", PB), (b"", JSON), (b"{}", JSON), (b" ", JSON)])
def test_empty_requests_succeed(body: bytes, content_type: str) -> None:
    result = decode_traces(body, content_type)
    assert result.spans == [] and result.rejected == 0


def test_unsupported_content_type() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        decode_traces(b"{}", "text/plain")
    assert caught.value.status == 415 and "application/x-protobuf" in caught.value.message
