"""Identity extraction from span attributes: Istio/Envoy proxy spans and OTel SDK spans."""

from __future__ import annotations

import pytest

from observe.model.spans import (
    Peer,
    Resource,
    SpanKind,
    attribute_text,
    build_span,
    normalize_span_id,
    normalize_trace_id,
    parse_node_id,
    parse_upstream_cluster,
    peer_from_host,
    workload_from_pod,
)

IDS = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "00f067aa0ba902b7")
TIMES = (1_700_000_000.5, 12.5)

ENVOY_CLIENT = {
    "istio.canonical_service": "productpage",
    "istio.canonical_revision": "v1",
    "istio.namespace": "bookinfo",
    "node_id": "sidecar~10.244.0.25~productpage-v1-6f89b6c557-sg2bc.bookinfo~bookinfo.svc.cluster.local",
    "upstream_cluster": "outbound|9080|v2|reviews.bookinfo.svc.cluster.local",
    "http.status_code": "200",
    "response_flags": "-",
    "component": "proxy",
}


def test_envoy_client_span_identity_and_peer() -> None:
    span = build_span(IDS, SpanKind.CLIENT, "reviews:9080/*", TIMES, Resource.from_attributes(
        {"service.name": "productpage.bookinfo"}), ENVOY_CLIENT, tags=tuple(ENVOY_CLIENT.items()))  # fmt: skip
    assert (span.service, span.namespace, span.version, span.workload) == ("productpage", "bookinfo", "v1",
                                                                           "productpage-v1")  # fmt: skip
    assert span.peer == Peer("reviews", "bookinfo", "v2", "reviews.bookinfo.svc.cluster.local")
    assert span.status_code == 200 and not span.error and span.response_flags == "-"
    assert span.start_s == TIMES[0] and span.duration_ms == 12.5 and span.end_s == pytest.approx(TIMES[0] + 0.0125)
    assert dict(span.tags)["upstream_cluster"].startswith("outbound|")


def test_istio_service_name_is_split_only_on_proxy_spans_without_istio_tags() -> None:
    attrs = {"node_id": "sidecar~10.0.0.1~ratings-v1-77bdbf89bb-qd48j.bookinfo~bookinfo.svc.cluster.local"}
    span = build_span(IDS, SpanKind.SERVER, "op", TIMES, Resource.from_attributes(
        {"service.name": "ratings.bookinfo"}), attrs)  # fmt: skip
    assert (span.service, span.namespace, span.version, span.workload) == ("ratings", "bookinfo", "unknown",
                                                                           "ratings-v1")  # fmt: skip
    sdk = build_span(IDS, SpanKind.SERVER, "op", TIMES, Resource.from_attributes({"service.name": "com.shop"}), {})
    assert (sdk.service, sdk.namespace, sdk.workload) == ("com.shop", "unknown", "unknown")


def test_otel_sdk_span_from_resource_attributes() -> None:
    resource = Resource.from_attributes({
        "service.name": "reviews", "service.version": "v3", "service.namespace": "bookinfo",
        "k8s.deployment.name": "reviews-v3",
    })  # fmt: skip
    attrs = {"http.response.status_code": "503", "server.address": "ratings.bookinfo.svc.cluster.local"}
    span = build_span(IDS, SpanKind.CLIENT, "GET", TIMES, resource, attrs)
    assert (span.service, span.namespace, span.version, span.workload) == ("reviews", "bookinfo", "v3",
                                                                           "reviews-v3")  # fmt: skip
    assert span.peer == Peer("ratings", "bookinfo", "", "ratings.bookinfo.svc.cluster.local")
    assert span.status_code == 503 and span.error


def test_resource_strips_namespace_suffix_and_reads_pod_name() -> None:
    resource = Resource.from_attributes({"service.name": "details.bookinfo", "k8s.namespace.name": "bookinfo",
                                         "k8s.pod.name": "details-v1-7745b6fcf4-mrz75"})  # fmt: skip
    assert resource == Resource("details", "bookinfo", "", "details-v1")


@pytest.mark.parametrize(
    ("attrs", "status_error", "expected"),
    [
        ({"http.status_code": "200"}, False, False),
        ({"http.status_code": "404"}, False, False),
        ({"http.status_code": "500"}, False, True),
        ({"http.status_code": "0", "response_flags": "UH"}, False, True),  # no response
        ({"error": "true"}, False, True),  # Envoy writes the flag as a string
        ({"error": "false"}, False, False),
        ({"otel.status_code": "ERROR"}, False, True),  # Jaeger's rendering of OTLP status ERROR
        ({}, True, True),
        ({"http.status_code": "abc"}, False, False),
    ],
)
def test_error_rules(attrs: dict[str, str], status_error: bool, expected: bool) -> None:
    span = build_span(IDS, SpanKind.SERVER, "op", TIMES, Resource.from_attributes({}), attrs, status_error=status_error)
    assert span.error is expected


def test_missing_version_is_unknown_and_flags_default_to_dash() -> None:
    span = build_span(IDS, SpanKind.SERVER, "op", TIMES, Resource.from_attributes({"service.name": "x"}), {})
    assert span.version == "unknown" and span.response_flags == "-" and span.status_code is None
    assert span.peer is None and span.tags == ()


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        ("outbound|9080|v2|reviews.default.svc.cluster.local",
         Peer("reviews", "default", "v2", "reviews.default.svc.cluster.local")),
        ("outbound|9080||details.bookinfo.svc.cluster.local",
         Peer("details", "bookinfo", "", "details.bookinfo.svc.cluster.local")),
        ("outbound|443||api.example.com", Peer("api.example.com", "", "", "api.example.com")),
        ("inbound-vip|9080|http|reviews.bookinfo.svc.cluster.local",
         Peer("reviews", "bookinfo", "http", "reviews.bookinfo.svc.cluster.local")),
        ("inbound|9080||", None),
        ("PassthroughCluster", None),
    ],
)  # fmt: skip
def test_parse_upstream_cluster(cluster: str, expected: Peer | None) -> None:
    assert parse_upstream_cluster(cluster) == expected


def test_passthrough_cluster_falls_back_to_url_host() -> None:
    attrs = {"upstream_cluster": "PassthroughCluster", "http.url": "https://api.example.com:443/v1/pay"}
    span = build_span(IDS, SpanKind.CLIENT, "op", TIMES, Resource.from_attributes({}), attrs)
    assert span.peer == Peer("api.example.com", "", "", "api.example.com:443")
    bare = build_span(IDS, SpanKind.CLIENT, "op", TIMES, Resource.from_attributes({}),
                      {"upstream_cluster": "BlackHoleCluster"})  # fmt: skip
    assert bare.peer == Peer("BlackHoleCluster")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("reviews.bookinfo.svc.cluster.local", Peer("reviews", "bookinfo", "", "reviews.bookinfo.svc.cluster.local")),
        ("reviews.bookinfo.svc:9080", Peer("reviews", "bookinfo", "", "reviews.bookinfo.svc:9080")),
        ("reviews:9080", Peer("reviews", "shop", "", "reviews:9080")),  # resolves in the caller's namespace
        ("api.example.com", Peer("api.example.com", "", "", "api.example.com")),
        ("10.0.0.7:8080", Peer("10.0.0.7", "", "", "10.0.0.7:8080")),
    ],
)
def test_peer_from_host(host: str, expected: Peer) -> None:
    assert peer_from_host(host, "shop") == expected


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("reviews-v2-6f76498fc8-58wpn", "reviews-v2"),
        ("istio-ingressgateway-79788cd94-wgmsp", "istio-ingressgateway"),
        ("web-0", "web"),
        ("fluentd-x7k2p", "fluentd"),
        ("productpage", "productpage"),
    ],
)
def test_workload_from_pod(pod: str, workload: str) -> None:
    assert workload_from_pod(pod) == workload


def test_parse_node_id() -> None:
    node = "router~10.244.0.14~istio-ingressgateway-79788cd94-wgmsp.istio-system~istio-system.svc.cluster.local"
    assert parse_node_id(node) == ("istio-ingressgateway", "istio-system")
    assert parse_node_id("garbage") == ("", "")


def test_ids_are_normalized_and_validated() -> None:
    assert normalize_trace_id("0AF7651916CD43DD8448EB211C80319C") == "0af7651916cd43dd8448eb211c80319c"
    assert normalize_trace_id("00f067aa0ba902b7") == "000000000000000000f067aa0ba902b7"  # 64-bit, padded
    assert normalize_trace_id("0" * 32) is None
    assert normalize_trace_id("xyz") is None
    assert normalize_span_id("B7AD6B7169203331") == "b7ad6b7169203331"
    assert normalize_span_id("0" * 16) is None
    assert normalize_span_id("b7ad6b716920333") is None


def test_span_kind_parsing_and_attribute_text() -> None:
    assert SpanKind.from_number(3) is SpanKind.CLIENT
    assert SpanKind.from_number(42) is SpanKind.UNSPECIFIED
    assert SpanKind.from_name("SPAN_KIND_SERVER") is SpanKind.SERVER
    assert SpanKind.from_name("client") is SpanKind.CLIENT
    assert SpanKind.from_name("weird") is SpanKind.UNSPECIFIED
    assert attribute_text(True) == "true" and attribute_text(7) == "7" and attribute_text(2.5) == "2.5"
    assert attribute_text(["a", 1]) == '["a",1]' and attribute_text({"b": 1, "a": 2}) == '{"a":2,"b":1}'
