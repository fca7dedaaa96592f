"""Build real OTLP ExportTraceServiceRequest messages (opentelemetry-proto) for receiver tests."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

CLIENT, SERVER = Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_SERVER


@dataclass(frozen=True)
class Hop:
    """One request: a CLIENT span in `caller` and its SERVER child in `callee`."""

    caller: tuple[str, str]  # (app, version)
    callee: tuple[str, str]
    trace: int
    hop: int
    start_s: float
    ms: float
    status: int = 200


def _attrs(**values: str | int) -> list[KeyValue]:
    out = []
    for key, value in values.items():
        any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
        out.append(KeyValue(key=key.replace("_", "."), value=any_value))
    return out


def _span(hop: Hop, kind: int, span_id: int, parent: int | None, ms: float) -> Span:
    start = int(hop.start_s * 1e9)
    span = Span(
        trace_id=hop.trace.to_bytes(16, "big"), span_id=span_id.to_bytes(8, "big"), kind=kind,
        name="GET /", start_time_unix_nano=start, end_time_unix_nano=start + int(ms * 1e6),
        attributes=_attrs(http_response_status_code=hop.status),
        status=Status(code=Status.STATUS_CODE_ERROR if hop.status >= 500 else Status.STATUS_CODE_UNSET),
    )  # fmt: skip
    if parent is not None:
        span.parent_span_id = parent.to_bytes(8, "big")
    return span


def _resource(app: str, version: str) -> Resource:
    return Resource(attributes=_attrs(service_name=app, service_version=version, service_namespace="bookinfo",
                                      k8s_deployment_name=f"{app}-{version}"))  # fmt: skip


def request_for(hops: list[Hop]) -> ExportTraceServiceRequest:
    """Each hop becomes a client span (id 2·hop+1) and a server span (id 2·hop+2) in their own services."""
    by_service: dict[tuple[str, str], list[Span]] = {}
    for hop in hops:
        client_id, server_id = 2 * hop.hop + 1, 2 * hop.hop + 2
        by_service.setdefault(hop.caller, []).append(_span(hop, CLIENT, client_id, None, hop.ms))
        by_service.setdefault(hop.callee, []).append(_span(hop, SERVER, server_id, client_id, hop.ms * 0.9))
    return ExportTraceServiceRequest(resource_spans=[
        ResourceSpans(resource=_resource(*service), scope_spans=[ScopeSpans(spans=spans)])
        for service, spans in by_service.items()
    ])  # fmt: skip
