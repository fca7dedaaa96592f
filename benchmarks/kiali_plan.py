"""Kiali's graph query plan, as a benchmark-only list of PromQL queries, to time beside observe's on the same
Prometheus. Kiali (kiali/kiali) builds a graph namespace by namespace:

- graph/telemetry/istio/istio.go, buildNamespaceTrafficMap: per namespace, three HTTP/gRPC traffic queries on
  istio_requests_total (from `unknown`, from other namespaces with reporter="source", from inside with
  reporter="source") and the same three on istio_tcp_sent_bytes_total: 6 per namespace;
- graph/telemetry/istio/appender/response_time.go: the responseTime appender (the default edge label in
  Kiali's UI is traffic, but response time is the comparable figure) adds three histogram_quantile queries
  per namespace, each an OR of the milliseconds and the legacy seconds histogram: 3 per namespace.
So 9 queries per namespace; other appenders (securityPolicy, throughput) would add more. The matchers and
`by` labels below are Kiali's; one deviation: Kiali's response-time matcher grpc_response_status="0" is
left out, since plain-HTTP series carry no such label and the queries would then find nothing to do.
"""

from __future__ import annotations

_HTTP_BY = (
    "source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,"
    "destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,"
    "destination_workload,destination_canonical_service,destination_canonical_revision,request_protocol,"
    "response_code,grpc_response_status,response_flags"
)
_TCP_BY = (
    "source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,"
    "destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,"
    "destination_workload,destination_canonical_service,destination_canonical_revision,response_flags"
)
_TIME_BY = (
    "le,source_workload_namespace,source_workload,source_app,source_version,destination_service_namespace,"
    "destination_service_name,destination_workload_namespace,destination_workload,destination_app,destination_version"
)
QUERIES_PER_NAMESPACE = 9


def _selectors(ns: str) -> tuple[str, str, str]:
    return (
        f'reporter="destination",source_workload="unknown",destination_workload_namespace="{ns}"',
        f'reporter="source",source_workload_namespace!="{ns}",source_workload!="unknown",'
        f'destination_service_namespace="{ns}"',
        f'reporter="source",source_workload_namespace="{ns}"',
    )


def _response_time(selector: str, window_s: int, quantile: float) -> str:
    def one(metric: str) -> str:
        return (f"histogram_quantile({quantile:.2f}, sum(rate({metric}{{{selector},response_code=~\"2[0-9]{{2}}$\"}}"
                f"[{window_s}s])) by ({_TIME_BY}))")  # fmt: skip

    return (f"(({one('istio_request_duration_milliseconds_bucket')} > 0) OR "
            f"(({one('istio_request_duration_seconds_bucket')} > 0) * 1000.0))")  # fmt: skip


def namespace_queries(ns: str, window_s: int = 60, quantile: float = 0.95) -> list[str]:
    selectors = _selectors(ns)
    traffic = [f"sum(rate(istio_requests_total{{{s}}} [{window_s}s])) by ({_HTTP_BY})" for s in selectors]
    tcp = [f"sum(rate(istio_tcp_sent_bytes_total{{{s}}} [{window_s}s])) by ({_TCP_BY})" for s in selectors]
    return traffic + tcp + [_response_time(s, window_s, quantile) for s in selectors]


def plan(namespaces: list[str], window_s: int = 60) -> list[str]:
    """Every query one Kiali graph refresh of these namespaces issues (namespaces are queried in turn)."""
    return [query for ns in namespaces for query in namespace_queries(ns, window_s)]
