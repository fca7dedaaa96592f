"""Jaeger v1/v3 answers → SpanRecords, on Jaeger's own fixture files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from observe.errors import BadQuery
from observe.model.spans import SpanKind
from observe.sources.jaeger_json import decode_v1, decode_v3, error_message, services_v1, services_v3
from observe.sources.otlp import decode_traces
from tests.fakes.jaeger import otlp_json, v1_trace

FIXTURES = Path(__file__).parents[2] / "fixtures" / "telemetry"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def test_v1_envelope_from_jaeger_transform() -> None:
    result = decode_v1(load("jaeger-api-transform-response.json"))
    assert len(result.spans) == 2 and result.rejected == 0
    span = result.spans[0]
    assert (span.trace_id, span.span_id, span.parent_id) == (
        "83a9efd15c1c98a977e0711cc93ee28b", "e127af99e3b3e074", "909541b92cf05311")  # fmt: skip
    assert span.kind is SpanKind.SERVER and span.service == "telemetrygen"
    assert span.start_s == pytest.approx(1706678909.209712) and span.duration_ms == pytest.approx(0.123)
    assert "span.kind" not in dict(span.tags) and dict(span.tags)["peer.service"] == "telemetrygen-client"


def test_v1_and_otlp_decodings_of_the_same_jaeger_fixture_pair_agree() -> None:
    from_v1 = decode_v1(load("jaeger-api-transform-response.json")).spans
    from_otlp = decode_traces((FIXTURES / "otlp-json-traces-request.json").read_bytes(), "application/json").spans
    strip = [(s.trace_id, s.span_id, s.parent_id, s.kind, s.service, s.start_s, s.duration_ms) for s in from_v1]
    assert strip == [(s.trace_id, s.span_id, s.parent_id, s.kind, s.service, s.start_s, s.duration_ms)
                     for s in from_otlp]  # fmt: skip


def test_v1_ui_model_trace_references_typed_tags_and_64_bit_ids() -> None:
    spans = {s.operation + s.span_id[-1]: s for s in decode_v1(load("jaeger-ui-model-trace.json")).spans}
    tagged = spans["some-operation2"]
    assert tagged.trace_id == "0" * 31 + "1"  # 64-bit id, left-padded as Jaeger does for OTLP
    assert dict(tagged.tags) == {"peer.service": "service-y", "peer.ipv4": "23456", "error": "true",
                                 "temperature": "72.5", "javascript_limit": "9223372036854775222",
                                 "blob": "AAAwOQ=="}  # fmt: skip
    assert tagged.error and tagged.service == "service-x" and tagged.kind is SpanKind.UNSPECIFIED
    # the first CHILD_OF points into another trace: the parent is the next CHILD_OF in this trace
    assert spans["reference-test4"].parent_id == "0000000000000002"
    assert spans["preserveParentID-test5"].parent_id == "0000000000000004"
    assert spans["test-general-conversion2"].parent_id is None


def test_v3_get_trace_snapshot() -> None:
    (span,) = decode_v3(load("jaeger-api-v3-get-trace.json")).spans
    assert (span.trace_id, span.span_id, span.kind, span.error) == ("0" * 31 + "1", "0" * 15 + "2",
                                                                    SpanKind.SERVER, True)  # fmt: skip


def test_fake_encodings_round_trip_bookinfo_spans() -> None:
    spans = decode_traces((FIXTURES / "istio-bookinfo-trace.tempo-otlp.json").read_bytes(), "application/json").spans
    from_v1 = decode_v1({"data": [v1_trace(spans)]}).spans
    from_v3 = decode_v3({"result": otlp_json(spans)}).spans
    key = sorted((s.span_id, s.parent_id, s.kind, s.service, s.version, s.namespace, s.workload, s.peer,
                  s.status_code, s.error, round(s.duration_ms, 3)) for s in spans)  # fmt: skip
    for decoded in (from_v1, from_v3):
        assert sorted((s.span_id, s.parent_id, s.kind, s.service, s.version, s.namespace, s.workload, s.peer,
                       s.status_code, s.error, round(s.duration_ms, 3)) for s in decoded) == key  # fmt: skip


def test_services_and_errors() -> None:
    assert services_v1({"data": ["b", "a"], "total": 2}) == ["a", "b"]
    assert services_v3({"services": ["x"]}) == ["x"]
    assert services_v3({}) == []
    assert error_message({"error": {"httpCode": 404, "message": "No traces found"}}) == "No traces found"
    assert error_message({"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}) == "trace not found"
    assert error_message("text") is None


def test_v1_bad_spans_are_rejected_and_counted() -> None:
    trace = load("jaeger-ui-model-trace.json")
    trace["spans"][0]["spanID"] = "xyz"
    trace["spans"][1]["startTime"] = "yesterday"
    trace["spans"][2]["processID"] = "p9"
    trace["spans"].append("junk")
    result = decode_v1({"data": [trace]})
    assert len(result.spans) == 2 and result.rejected == 4


@pytest.mark.parametrize(
    "document",
    [{"data": 5}, {"data": [5]}, {"data": [{"spans": 3}]}, {"data": [{"spans": [], "processes": []}]}, 7],
)
def test_malformed_v1_answers_are_bad_queries(document: Any) -> None:
    with pytest.raises(BadQuery):
        decode_v1(document)


def test_malformed_v3_and_service_answers_are_bad_queries() -> None:
    with pytest.raises(BadQuery):
        decode_v3([1])
    with pytest.raises(BadQuery):
        decode_v3({"result": {"resourceSpans": {}}})
    with pytest.raises(BadQuery):
        services_v1({"data": [1, 2]})
    assert decode_v1({"data": None}).spans == [] and decode_v3({"result": None}).spans == []
