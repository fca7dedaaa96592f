"""Spans from the demo mesh (OpenTelemetry SDK, OTLP/HTTP, sampling off) → receiver → per-edge trace stats."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from tests.integration.stack import Stack
from tests.integration.test_topology import BOOKINFO_EDGES, edges_by_pair

SLOT_S = 10


@pytest.fixture(scope="module")
def aligned(stack: Stack) -> tuple[float, dict[str, Any]]:
    """A 30 s window aligned to the trace slots, ending 15 s ago so every span of it has been exported."""
    at = math.floor((time.time() - 15) / SLOT_S) * SLOT_S
    topology: dict[str, Any] = stack.api("/api/v1/topology", window="30s", at=at)
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


def test_trace_counts_match_the_requests_metrics_counted(aligned: tuple[float, dict[str, Any]]) -> None:
    _, topology = aligned
    for pair, edge in edges_by_pair(topology).items():
        assert edge["trace"]["window_s"] == 30  # the window is aligned to the slots
        assert edge["trace"]["rps"] == pytest.approx(edge["rps"], rel=0.10), pair


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
