"""The topology API against a real Prometheus scraping the real demo mesh."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.conftest import REVIEWS_V2_ERRORS, WINDOW
from tests.integration.stack import Stack, get_text

BOOKINFO_EDGES = {
    ("unknown", "bookinfo/productpage/v1"),
    ("bookinfo/productpage/v1", "bookinfo/details/v1"),
    ("bookinfo/productpage/v1", "bookinfo/reviews/v1"),
    ("bookinfo/productpage/v1", "bookinfo/reviews/v2"),
    ("bookinfo/productpage/v1", "bookinfo/reviews/v3"),
    ("bookinfo/reviews/v2", "bookinfo/ratings/v1"),
    ("bookinfo/reviews/v3", "bookinfo/ratings/v1"),
}


def edges_by_pair(topology: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["source"], e["target"]): e for e in topology["edges"]}


@pytest.fixture(scope="module")
def instant(stack: Stack) -> float:
    """A fixed instant, so our answer and Prometheus's own answers are evaluated at the same time."""
    return round(time.time() - 1, 3)


@pytest.fixture(scope="module")
def topology(stack: Stack, instant: float) -> dict[str, Any]:
    answer: dict[str, Any] = stack.api("/api/v1/topology", window=WINDOW, at=instant)
    return answer


def test_every_bookinfo_edge_appears(topology: dict[str, Any]) -> None:
    assert topology["missing"] == [] and topology["stale"] is False
    assert set(edges_by_pair(topology)) == BOOKINFO_EDGES
    node = next(n for n in topology["nodes"] if n["id"] == "bookinfo/reviews/v2")
    assert (node["app"], node["version"], node["workload"]) == ("reviews", "v2", "reviews-v2")


def test_rps_matches_the_load_generator(stack: Stack, topology: dict[str, Any]) -> None:
    assert stack.mesh is not None
    stats = stack.mesh.load_stats()
    sent_rate = stats.sent / (time.time() - stats.started_at)
    edges = edges_by_pair(topology)
    entry = edges[("unknown", "bookinfo/productpage/v1")]["rps"]
    assert entry == pytest.approx(sent_rate, rel=0.10)
    assert edges[("bookinfo/productpage/v1", "bookinfo/details/v1")]["rps"] == pytest.approx(sent_rate, rel=0.10)
    reviews = sum(edges[("bookinfo/productpage/v1", f"bookinfo/reviews/{v}")]["rps"] for v in ("v1", "v2", "v3"))
    assert reviews == pytest.approx(sent_rate, rel=0.10)


def test_error_fault_shows_as_success_rate(topology: dict[str, Any]) -> None:
    edge = edges_by_pair(topology)[("bookinfo/productpage/v1", "bookinfo/reviews/v2")]
    assert edge["success_rate"] == pytest.approx(1 - REVIEWS_V2_ERRORS, abs=0.07)
    assert set(edge["responses"]) == {"200", "500"} and edge["health"] == "failing"
    healthy = edges_by_pair(topology)[("bookinfo/productpage/v1", "bookinfo/reviews/v1")]
    assert healthy["success_rate"] == 1.0 and healthy["health"] == "healthy"


def test_rates_and_p99_equal_prometheus_own_answers(stack: Stack, topology: dict[str, Any], instant: float) -> None:
    edge = edges_by_pair(topology)[("bookinfo/productpage/v1", "bookinfo/reviews/v2")]
    selector = ('reporter="destination",source_canonical_service="productpage",'
                'destination_canonical_service="reviews",destination_canonical_revision="v2"')  # fmt: skip
    [rps] = stack.promql(f"sum(rate(istio_requests_total{{{selector}}}[{WINDOW}]))", instant)
    assert edge["rps"] == pytest.approx(float(rps["value"][1]), rel=1e-3)
    [p99] = stack.promql(
        f"histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{{{selector}}}"
        f"[{WINDOW}])))",
        instant,
    )
    expected = float(p99["value"][1])
    assert edge["p99_ms"] == pytest.approx(expected, rel=0.01)
    lower, upper = edge["p99_bounds_ms"]
    assert lower <= edge["p99_ms"] <= upper
    assert edge["p50_ms"] <= edge["p95_ms"] <= edge["p99_ms"]


def test_query_count_per_refresh_does_not_grow_with_namespaces(stack: Stack, instant: float) -> None:
    def queries() -> float:
        return stack.metric_value("observe_promql_queries_total", 'kind="rates"') + stack.metric_value(
            "observe_promql_queries_total", 'kind="quantiles"'
        )

    many = ",".join(["bookinfo", *(f"team-{i}" for i in range(199))])
    costs = []
    for offset, namespaces in enumerate(("bookinfo", "bookinfo,other", many)):
        before = queries()
        answer = stack.api("/api/v1/topology", window=WINDOW, at=instant - 2 - offset, namespace=namespaces)
        costs.append(queries() - before)
        assert set(edges_by_pair(answer)) == BOOKINFO_EDGES
    assert costs == [2, 2, 2]


@pytest.mark.parametrize("graph", ["app", "service", "workload"])
def test_other_graph_types(stack: Stack, instant: float, graph: str) -> None:
    answer = stack.api("/api/v1/topology", window=WINDOW, at=instant, graph=graph)
    pairs = set(edges_by_pair(answer))
    expected = {
        "app": ("bookinfo/productpage", "bookinfo/reviews"),
        "service": ("bookinfo/svc/productpage", "bookinfo/svc/reviews"),
        "workload": ("bookinfo/wl/productpage-v1", "bookinfo/wl/reviews-v2"),
    }[graph]
    assert expected in pairs


def test_live_view_is_shared_between_viewers(stack: Stack) -> None:
    before = stack.metric_value("observe_promql_queries_total", 'kind="rates"')
    answers = [stack.api("/api/v1/topology", window="30s", namespace=ns) for ns in ("bookinfo", "", "a,bookinfo")]
    assert all(set(edges_by_pair(a)) == BOOKINFO_EDGES for a in answers)
    # the 30s view is new: one refresh served the three viewers of different namespace selections
    assert stack.metric_value("observe_promql_queries_total", 'kind="rates"') - before == 1


def test_live_minute_views_read_the_recording_rules_and_agree_with_raw_rates(stack: Stack) -> None:
    answer = stack.api("/api/v1/topology", window="1m")
    assert "observe_recording_rules_in_use 1.0" in get_text(stack.api_url + "/metrics")
    edge = edges_by_pair(answer)[("bookinfo/productpage/v1", "bookinfo/reviews/v2")]
    selector = ('reporter="destination",source_canonical_service="productpage",'
                'destination_canonical_service="reviews",destination_canonical_revision="v2"')  # fmt: skip
    [raw] = stack.promql(f"sum(rate(istio_requests_total{{{selector}}}[1m]))", answer["as_of"])
    assert edge["rps"] == pytest.approx(float(raw["value"][1]), rel=0.05)
    assert edge["p99_ms"] is not None and edge["success_rate"] == pytest.approx(1 - REVIEWS_V2_ERRORS, abs=0.08)
