"""Istio-labelled vector samples for a small Bookinfo mesh, shaped as Prometheus returns them."""

from __future__ import annotations

from observe.model.samples import VectorSample

NS = "bookinfo"


def side(prefix: str, workload: str, app: str, version: str, ns: str = NS) -> dict[str, str]:
    return {
        f"{prefix}_workload": workload,
        f"{prefix}_workload_namespace": ns,
        f"{prefix}_canonical_service": app,
        f"{prefix}_canonical_revision": version,
    }


def rate(src: dict[str, str], dst: dict[str, str], service: str, code: str, value: float,
         reporter: str = "destination", flags: str = "-") -> VectorSample:  # fmt: skip
    labels = {**src, **dst, "destination_service": service, "request_protocol": "http",
              "reporter": reporter, "response_code": code, "response_flags": flags}  # fmt: skip
    return VectorSample(labels, value)


UNKNOWN_SRC = side("source", "unknown", "unknown", "unknown", "unknown")
PRODUCTPAGE_SRC = side("source", "productpage-v1", "productpage", "v1")
PRODUCTPAGE_DST = side("destination", "productpage-v1", "productpage", "v1")
REVIEWS_V2_SRC = side("source", "reviews-v2", "reviews", "v2")
REVIEWS = {v: side("destination", f"reviews-{v}", "reviews", v) for v in ("v1", "v2", "v3")}
RATINGS_DST = side("destination", "ratings-v1", "ratings", "v1")
DETAILS_NO_VERSION = side("destination", "details-v1", "details", "")
UNREACHED_REVIEWS = side("destination", "unknown", "unknown", "latest", "unknown")
REVIEWS_SVC = "reviews.bookinfo.svc.cluster.local"


def bookinfo_rates() -> list[VectorSample]:
    return [
        rate(UNKNOWN_SRC, PRODUCTPAGE_DST, "productpage.bookinfo.svc.cluster.local", "200", 10.0),
        rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC, "200", 3.0),
        # the same requests as seen by the caller's sidecar: must not be counted again
        rate(PRODUCTPAGE_SRC, REVIEWS["v1"], REVIEWS_SVC, "200", 3.0, reporter="source"),
        rate(PRODUCTPAGE_SRC, REVIEWS["v2"], REVIEWS_SVC, "200", 2.4),
        rate(PRODUCTPAGE_SRC, REVIEWS["v2"], REVIEWS_SVC, "500", 0.6),
        rate(PRODUCTPAGE_SRC, REVIEWS["v3"], REVIEWS_SVC, "200", 2.9),
        rate(PRODUCTPAGE_SRC, REVIEWS["v3"], REVIEWS_SVC, "404", 0.1),
        rate(PRODUCTPAGE_SRC, DETAILS_NO_VERSION, "details.bookinfo.svc.cluster.local", "200", 10.0),
        rate(REVIEWS_V2_SRC, RATINGS_DST, "ratings.bookinfo.svc.cluster.local", "200", 3.0),
        # circuit-breaker rejections never reached a workload: only the source reporter knows them
        rate(PRODUCTPAGE_SRC, UNREACHED_REVIEWS, REVIEWS_SVC, "503", 0.5, reporter="source", flags="UO"),
    ]
