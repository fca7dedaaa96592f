"""Spans from the demo mesh (OpenTelemetry SDK, OTLP/HTTP, sampling off) → receiver → per-edge trace stats."""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import pytest

from tests.integration.stack import Stack
from tests.integration.test_topology import BOOKINFO_EDGES, edges_by_pair

SLOT_S = 10
WINDOW_S = 30
EXPORTED_S = 15  # every span this old has been exported and received


@pytest.fixture(scope="module")
def aligned(stack: Stack) -> tuple[float, dict[str, Any]]:
    """A window aligned to the trace slots, ending when every span of it has been exported, and
    starting after two scrapes, so counters have a sample on each side of it."""
    time.sleep(max(0.0, stack.scraping_since + 2 * stack.scrape_interval_s + WINDOW_S + EXPORTED_S + SLOT_S
                   - time.time()))  # fmt: skip
    at = math.floor((time.time() - EXPORTED_S) / SLOT_S) * SLOT_S
    topology: dict[str, Any] = stack.api("/api/v1/topology", window=f"{WINDOW_S}s", at=at)
    return at, topology


def test_every_edge_has_trace_stats_beside_metrics(aligned: tuple[float, dict[str, Any]]) -> None:
    _, topology = aligned
    edges = edges_by_pair(topology)
    assert set(edges) == BOOKINFO_EDGES  # no edge seen only in traces: both views agree on the mesh
    for pair, edge in edges.items():
        assert edge["seen_by"] == ["metrics", "traces"], pair
        trace = edge["trace"]
        assert trace["count"] > 0 and trace["p50_ms"] <= trace["p95_ms"] <= trace["p99_ms"]
        assert trace["exemplars"] and all(len(t) == 32 for t in trace["exemplars"])


def test_trace_counts_match_the_requests_metrics_counted(stack: Stack, aligned: tuple[float, dict[str, Any]]) -> None:
    at, topology = aligned
    for pair, edge in edges_by_pair(topology).items():
        assert edge["trace"]["window_s"] == WINDOW_S  # the window is aligned to the slots
        counted_rps = counted(stack, *pair, at - WINDOW_S, at) / WINDOW_S
        assert edge["trace"]["rps"] == pytest.approx(counted_rps, rel=0.10), pair


def counted(stack: Stack, source: str, target: str, start: float, end: float) -> float:
    """Requests the callee's sidecar counted on an edge between two instants, from the raw counter samples
    interpolated at both ends. Not rate(): it extrapolates from the samples inside the window, and on a busy
    machine one late scrape at an edge of a 30 s window moves it by 15 %, more than traces and metrics differ."""
    namespace, service, version = target.split("/")
    matchers = {"reporter": "destination", "destination_workload_namespace": namespace,
                "destination_canonical_service": service, "destination_canonical_revision": version}  # fmt: skip
    if source == "unknown":
        matchers["source_canonical_service"] = "unknown"
    else:
        _, matchers["source_canonical_service"], matchers["source_canonical_revision"] = source.split("/")
    selector = ",".join(f'{k}="{v}"' for k, v in matchers.items())
    lookback_s = end - start + 2 * SLOT_S
    series = stack.promql(f"istio_requests_total{{{selector}}}[{lookback_s:g}s]", at=end + SLOT_S)
    assert series, (source, target)
    return sum(_counter_at(s["values"], end) - _counter_at(s["values"], start) for s in series)


def _counter_at(samples: list[list[Any]], instant: float) -> float:
    """A counter's value at an instant, linear between the samples around it; 0 before a series' first sample
    (a new response code's series starts with its first request)."""
    points = [(float(t), float(v)) for t, v in samples]
    assert points[-1][0] >= instant, "no scrape after the window: the count would be cut short"
    if instant <= points[0][0]:
        return points[0][1] if instant == points[0][0] else 0.0
    (t0, v0), (t1, v1) = next((a, b) for a, b in itertools.pairwise(points) if a[0] < instant <= b[0])
    return v0 + (v1 - v0) * (instant - t0) / (t1 - t0)


def test_trace_error_rate_follows_the_fault(aligned: tuple[float, dict[str, Any]]) -> None:
    _, topology = aligned
    edge = edges_by_pair(topology)[("bookinfo/productpage/v1", "bookinfo/reviews/v2")]
    assert edge["trace"]["error_rate"] == pytest.approx(1 - edge["success_rate"], abs=0.05)
    assert not [d for d in edge["disagreements"] if d["kind"] == "error_rate"]


def test_search_and_waterfall_data(stack: Stack) -> None:
    found = stack.api("/api/v1/traces", edge="bookinfo/productpage/v1->bookinfo/reviews/v2", errors="true",
                      window="1m", limit=5)  # fmt: skip
    assert found["traces"] and all(t["error"] for t in found["traces"])
    trace = stack.api(f"/api/v1/traces/{found['traces'][0]['trace_id']}")
    spans = {s["span_id"]: s for s in trace["spans"]}
    servers = [s for s in spans.values() if s["kind"] == "server"]
    assert {s["service"] for s in servers} >= {"productpage", "reviews"}
    for server in servers:
        if server["parent_id"]:  # a hop: its parent is the caller's client span
            assert spans[server["parent_id"]]["kind"] == "client"
