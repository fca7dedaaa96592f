"""The Istio label sets of both reporters, exactly as the istio_stats filter fills them, and the exposition."""

from __future__ import annotations

import re

from observe.demo.identity import ServiceRef, WorkloadIdentity
from observe.demo.istio_metrics import (
    ENVOY_BUCKETS,
    LABEL_NAMES,
    IstioStats,
    destination_labels,
    envoy_le,
    source_labels,
)

PRODUCTPAGE = WorkloadIdentity("productpage-v1", "productpage", "v1", "bookinfo", "bookinfo-productpage")
REVIEWS_V2 = WorkloadIdentity("reviews-v2", "reviews", "v2", "bookinfo", "bookinfo-reviews")
REVIEWS = ServiceRef("reviews", "bookinfo")
PP_PRINCIPAL = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage"
REVIEWS_PRINCIPAL = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews"

ISTIO_LABELS = {
    "reporter", "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
    "source_canonical_service", "source_canonical_revision", "source_cluster", "destination_workload",
    "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
    "destination_service", "destination_service_name", "destination_service_namespace",
    "destination_canonical_service", "destination_canonical_revision", "destination_cluster", "request_protocol",
    "response_code", "grpc_response_status", "response_flags", "connection_security_policy",
}  # fmt: skip

REVIEWS_V2_SELF = {
    "destination_workload": "reviews-v2",
    "destination_workload_namespace": "bookinfo",
    "destination_app": "reviews",
    "destination_version": "v2",
    "destination_service": "reviews.bookinfo.svc.cluster.local",
    "destination_canonical_service": "reviews",
    "destination_canonical_revision": "v2",
    "destination_service_name": "reviews",
    "destination_service_namespace": "bookinfo",
    "destination_cluster": "Kubernetes",
}
PRODUCTPAGE_AS_SOURCE = {
    "source_workload": "productpage-v1",
    "source_canonical_service": "productpage",
    "source_canonical_revision": "v1",
    "source_workload_namespace": "bookinfo",
    "source_app": "productpage",
    "source_version": "v1",
    "source_cluster": "Kubernetes",
}


def test_label_names_are_istios_25_in_emission_order() -> None:
    assert set(LABEL_NAMES) == ISTIO_LABELS
    assert len(LABEL_NAMES) == 25
    assert LABEL_NAMES[0] == "reporter"
    assert LABEL_NAMES[-5:] == (
        "request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy"
    )  # fmt: skip


def test_destination_reporter_with_a_meshed_caller() -> None:
    labels = destination_labels(REVIEWS_V2, PRODUCTPAGE, "200")
    assert labels == {
        "reporter": "destination",
        **PRODUCTPAGE_AS_SOURCE,
        "source_principal": PP_PRINCIPAL,
        **REVIEWS_V2_SELF,
        "destination_principal": REVIEWS_PRINCIPAL,
        "request_protocol": "http",
        "response_code": "200",
        "grpc_response_status": "",
        "response_flags": "-",
        "connection_security_policy": "mutual_tls",
    }


def test_destination_reporter_with_a_caller_outside_the_mesh() -> None:
    labels = destination_labels(REVIEWS_V2, None, "503")
    assert labels == {
        "reporter": "destination",
        "source_workload": "unknown",
        "source_canonical_service": "unknown",
        "source_canonical_revision": "latest",  # istio_stats falls back to "latest", not "unknown"
        "source_workload_namespace": "unknown",
        "source_principal": "unknown",
        "source_app": "unknown",
        "source_version": "unknown",
        "source_cluster": "unknown",
        **REVIEWS_V2_SELF,
        "destination_principal": "unknown",  # plaintext: no local certificate on the connection
        "request_protocol": "http",
        "response_code": "503",
        "grpc_response_status": "",
        "response_flags": "-",
        "connection_security_policy": "none",
    }


def test_source_reporter_with_a_response() -> None:
    labels = source_labels(PRODUCTPAGE, REVIEWS, REVIEWS_V2, REVIEWS_PRINCIPAL, "200")
    assert labels == {
        "reporter": "source",
        **PRODUCTPAGE_AS_SOURCE,
        "source_principal": PP_PRINCIPAL,
        **REVIEWS_V2_SELF,
        "destination_principal": REVIEWS_PRINCIPAL,
        "request_protocol": "http",
        "response_code": "200",
        "grpc_response_status": "",
        "response_flags": "-",
        "connection_security_policy": "unknown",  # always unknown at reporter=source
    }


def test_source_reporter_when_the_request_never_reached_a_sidecar() -> None:
    labels = source_labels(PRODUCTPAGE, REVIEWS, None, None, "503", "UF")
    assert labels == {
        "reporter": "source",
        **PRODUCTPAGE_AS_SOURCE,
        "source_principal": "unknown",  # no upstream TLS connection, so no local certificate either
        "destination_workload": "unknown",
        "destination_workload_namespace": "unknown",
        "destination_principal": "unknown",
        "destination_app": "unknown",
        "destination_version": "unknown",
        "destination_service": "reviews.bookinfo.svc.cluster.local",  # from the cluster, known regardless
        "destination_canonical_service": "unknown",
        "destination_canonical_revision": "latest",
        "destination_service_name": "reviews",
        "destination_service_namespace": "bookinfo",
        "destination_cluster": "unknown",
        "request_protocol": "http",
        "response_code": "503",
        "grpc_response_status": "",
        "response_flags": "UF",
        "connection_security_policy": "unknown",
    }


def test_source_reporter_after_a_timeout_knows_the_peer_only_from_its_certificate() -> None:
    labels = source_labels(PRODUCTPAGE, REVIEWS, None, REVIEWS_PRINCIPAL, "504", "UT")
    assert labels["destination_workload"] == "unknown"
    assert labels["destination_workload_namespace"] == "bookinfo"  # from the SPIFFE id
    assert labels["destination_principal"] == REVIEWS_PRINCIPAL
    assert labels["source_principal"] == PP_PRINCIPAL
    assert (labels["response_code"], labels["response_flags"]) == ("504", "UT")


def test_envoy_buckets_and_their_printed_bounds() -> None:
    assert ENVOY_BUCKETS == (
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
        30000, 60000, 300000, 600000, 1800000, 3600000,
    )  # fmt: skip
    assert [envoy_le(b) for b in (0.5, 1, 250, 3600000)] == ["0.5", "1", "250", "3600000"]


def test_exposition_has_cumulative_envoy_buckets_and_no_created_series() -> None:
    stats = IstioStats()
    labels = destination_labels(REVIEWS_V2, PRODUCTPAGE, "200")
    for duration_ms in (0.2, 3.0, 3.0, 120.0, 7_200_000.0):
        stats.record(labels, duration_ms)
    text = stats.exposition().decode()

    assert "# TYPE istio_requests_total counter" in text
    assert "# TYPE istio_request_duration_milliseconds histogram" in text
    assert "_created" not in text
    buckets = dict(re.findall(r'istio_request_duration_milliseconds_bucket\{.*le="([^"]+)".*\} (\S+)', text))
    assert list(buckets) == [envoy_le(b) for b in ENVOY_BUCKETS] + ["+Inf"]
    assert float(buckets["0.5"]) == 1
    assert float(buckets["1"]) == 1
    assert float(buckets["5"]) == 3
    assert float(buckets["100"]) == 3
    assert float(buckets["250"]) == 4
    assert float(buckets["3600000"]) == 4
    assert float(buckets["+Inf"]) == 5
    assert re.search(r"istio_request_duration_milliseconds_count\{.*\} 5(\.0)?$", text, re.M)
    assert re.search(r'istio_requests_total\{.*reporter="destination".*\} 5(\.0)?$', text, re.M)


def test_each_label_combination_is_its_own_series() -> None:
    stats = IstioStats()
    stats.record(destination_labels(REVIEWS_V2, PRODUCTPAGE, "200"), 1.0)
    stats.record(destination_labels(REVIEWS_V2, PRODUCTPAGE, "200"), 1.0)
    stats.record(destination_labels(REVIEWS_V2, PRODUCTPAGE, "500"), 1.0)
    counts = {dict(zip(LABEL_NAMES, key, strict=True))["response_code"]: n for key, n in stats.requests().items()}
    assert counts == {"200": 2, "500": 1}
