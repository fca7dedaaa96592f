"""OTLP ingest throughput: protobuf/JSON decode, then pairing and per-edge sketches, on one core.

Bodies are Bookinfo-shaped traces (productpage → details, reviews → ratings; a SERVER and CLIENT span per hop,
OTel SDK resource attributes), built once with opentelemetry-proto; the timed loop is decode + ingest only.
Figures are CPU seconds of this process (time.process_time), best of `repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from benchmarks.timing import best_cpu_s
from observe.services.traces import TraceService
from observe.sources.otlp import decode_traces

HOPS = [("productpage", "details"), ("productpage", "reviews"), ("reviews", "ratings")]


def _kv(key: str, value: str | int) -> KeyValue:
    v = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=v)


def build_request(traces: int, start_s: float, seed: int = 1) -> ExportTraceServiceRequest:
    rng = random.Random(seed)
    by_service: dict[str, list[Span]] = {}
    for t in range(traces):
        trace_id = rng.getrandbits(128).to_bytes(16, "big")
        for h, (caller, callee) in enumerate(HOPS):
            begin = int((start_s + t * 0.001) * 1e9)
            ms = rng.lognormvariate(2.5, 0.5)
            client_id, server_id = (2 * h + 1).to_bytes(8, "big"), (2 * h + 2).to_bytes(8, "big")
            attrs = [_kv("http.response.status_code", 200), _kv("http.request.method", "GET"),
                     _kv("url.path", f"/{callee}/{t % 100}")]  # fmt: skip
            by_service.setdefault(caller, []).append(Span(
                trace_id=trace_id, span_id=client_id, kind=Span.SPAN_KIND_CLIENT, name=f"GET {callee}",
                start_time_unix_nano=begin, end_time_unix_nano=begin + int(ms * 1e6), attributes=attrs))  # fmt: skip
            by_service.setdefault(callee, []).append(Span(
                trace_id=trace_id, span_id=server_id, parent_span_id=client_id, kind=Span.SPAN_KIND_SERVER,
                name="GET /", start_time_unix_nano=begin + 100_000, end_time_unix_nano=begin + int(ms * 0.9e6),
                attributes=attrs))  # fmt: skip
    return ExportTraceServiceRequest(resource_spans=[
        ResourceSpans(resource=Resource(attributes=[_kv("service.name", name), _kv("service.version", "v1"),
                                                    _kv("service.namespace", "bookinfo")]),
                      scope_spans=[ScopeSpans(spans=spans)])
        for name, spans in by_service.items()
    ])  # fmt: skip


def run(traces: int = 2000, repeat: int = 5) -> dict[str, float]:
    now = time.time()
    request = build_request(traces, now - 60)
    spans = traces * len(HOPS) * 2
    pb = request.SerializeToString()
    js = json.dumps(MessageToDict(request)).encode()  # base64 ids: accepted, as Tempo writes them

    def pipeline(body: bytes, media: str) -> None:
        service = TraceService(clock=lambda: now)
        service.ingest(decode_traces(body, media).spans, origin="bench")

    return {
        "spans": spans,
        "protobuf_decode_spans_per_s": spans / best_cpu_s(lambda: decode_traces(pb, "application/x-protobuf"), repeat),
        "protobuf_ingest_spans_per_s": spans / best_cpu_s(lambda: pipeline(pb, "application/x-protobuf"), repeat),
        "json_ingest_spans_per_s": spans / best_cpu_s(lambda: pipeline(js, "application/json"), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, value in run(args.traces, args.repeat).items():
        print(f"{name:32s} {value:12,.0f}")


if __name__ == "__main__":
    main()
