"""A circuit breaker applied through the API changes the demo mesh's behaviour, and reverting undoes it.

The API and the demo mesh share a rules directory (as a GitOps checkout would be shared with the cluster);
the mesh's sidecars enforce its DestinationRules like Envoy: over the connection pool → 503 UO at the caller."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from observe.demo.mesh import Fault, MeshConfig
from tests.integration.stack import Stack, editing_stack

UNREACHED = ("bookinfo/productpage/v1", "bookinfo/svc/reviews")


@pytest.fixture(scope="module")
def breaker_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    rules: Path = tmp_path_factory.mktemp("rules")
    # 100 ms in reviews at 40 rps keeps ~4 requests in flight: a pool of 1 must overflow
    config = MeshConfig(rps=40, seed=3, faults={"reviews": Fault(latency_ms=100)})
    stack = editing_stack(rules, config)
    try:
        yield stack
    finally:
        stack.stop()


def uo_rate(stack: Stack) -> float:
    edges = {(e["source"], e["target"]): e for e in stack.api("/api/v1/topology", window="6s")["edges"]}
    edge = edges.get(UNREACHED)
    return float(edge["flags"].get("UO", 0.0)) if edge else 0.0


def test_pool_limit_gives_uo_and_revert_removes_it(breaker_stack: Stack) -> None:
    time.sleep(8)
    assert uo_rate(breaker_stack) == 0.0  # no rule yet: nothing is rejected
    applied = breaker_stack.post("/api/v1/destination-rules/bookinfo/reviews", {
        "spec": {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}},
        "reason": "integration test"})  # fmt: skip
    assert applied["applied"] is True and "maxConnections: 1" in applied["diff"]
    time.sleep(10)
    assert uo_rate(breaker_stack) > 1.0  # rejections at the caller, reported apart as UO
    entries = breaker_stack.api("/api/v1/audit")["entries"]
    assert entries[0]["reason"] == "integration test"
    breaker_stack.post(f"/api/v1/audit/{applied['audit_id']}/revert", {"reason": "undo"})
    time.sleep(10)
    assert uo_rate(breaker_stack) == 0.0
