"""OpenTelemetry spans for one demo workload, as its sidecar would emit them: a SERVER span per inbound
request, a CLIENT span per outbound call, W3C trace context carried over the real HTTP requests.

Every workload owns its TracerProvider (its own Resource, sampler and exporter); nothing touches the global
tracer provider, so workloads in one process never share tracing state. Contexts are passed explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from observe.demo.identity import WorkloadIdentity

SpanExporterFactory = Callable[[WorkloadIdentity], SpanExporter]
# Bounded export so stop() cannot hang on an unreachable collector.
EXPORT_TIMEOUT_S = 5.0


def otlp_exporter_factory(endpoint: str) -> SpanExporterFactory:
    """Exporters that POST OTLP/protobuf to `endpoint` (e.g. http://127.0.0.1:8080/v1/traces)."""

    def build(_: WorkloadIdentity) -> SpanExporter:
        return OTLPSpanExporter(endpoint=endpoint, timeout=EXPORT_TIMEOUT_S)

    return build


def workload_resource(identity: WorkloadIdentity) -> Resource:
    return Resource.create(
        {
            "service.name": identity.app,
            "service.version": identity.version,
            "service.namespace": identity.namespace,
            "k8s.deployment.name": identity.workload,
            "k8s.namespace.name": identity.namespace,
        }
    )


class WorkloadTracer:
    """The tracing half of one sidecar."""

    def __init__(self, identity: WorkloadIdentity, exporter: SpanExporter, sampling_ratio: float = 1.0) -> None:
        if not 0.0 <= sampling_ratio <= 1.0:
            raise ValueError(f"sampling_ratio must be within [0, 1], got {sampling_ratio}")
        self.provider = TracerProvider(
            resource=workload_resource(identity),
            sampler=ParentBased(TraceIdRatioBased(sampling_ratio)),
            shutdown_on_exit=False,
        )
        self.provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
        self._tracer = self.provider.get_tracer("observe.demo.sidecar")

    def start_server(self, name: str, headers: Mapping[str, str], attributes: dict[str, str]) -> tuple[Span, Context]:
        """A SERVER span continuing the caller's trace (from `traceparent`), and the context for children."""
        parent = propagate.extract(headers, context=Context())
        span = self._tracer.start_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)
        return span, trace.set_span_in_context(span, parent)

    def start_client(self, name: str, parent: Context | None, attributes: dict[str, str]) -> tuple[Span, Context]:
        ctx = parent if parent is not None else Context()
        span = self._tracer.start_span(name, context=ctx, kind=SpanKind.CLIENT, attributes=attributes)
        return span, trace.set_span_in_context(span, ctx)

    @staticmethod
    def inject(context: Context, headers: MutableMapping[str, str]) -> None:
        propagate.inject(headers, context=context)

    @staticmethod
    def finish(span: Span, status_code: int, flags: str) -> None:
        """Close a span with the HTTP outcome; 5xx and no response (code 0) are errors, as Envoy marks them."""
        span.set_attribute("http.response.status_code", status_code)
        span.set_attribute("response_flags", flags)
        if status_code >= 500 or status_code == 0:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status_code} {flags}"))
        span.end()

    def flush(self, timeout_s: float = EXPORT_TIMEOUT_S) -> bool:
        return self.provider.force_flush(timeout_millis=int(timeout_s * 1000))

    def shutdown(self) -> None:
        """Flushes the batch processor, then shuts the exporter down (blocking: run it in a thread)."""
        self.provider.shutdown()
