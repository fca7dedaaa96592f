"""A circuit breaker applied through the API changes the demo mesh's behaviour, and reverting undoes it.

The API and the demo mesh share a rules directory (as a GitOps checkout would be shared with the cluster);
the mesh's sidecars enforce its DestinationRules like Envoy: over the connection pool → 503 UO at the caller."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from observe.demo.mesh import Fault, MeshConfig
from observe.settings import Settings
from tests.integration.stack import Stack

TOKEN = "integration-token"
UNREACHED = ("bookinfo/productpage/v1", "bookinfo/svc/reviews")


@pytest.fixture(scope="module")
def breaker_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    rules: Path = tmp_path_factory.mktemp("rules")
    settings = Settings(rules_dir=str(rules), audit_db=str(rules.parent / "audit.sqlite3"), allow_writes=True,
                        write_token=TOKEN)  # fmt: skip
    # 100 ms in reviews at 40 rps keeps ~4 requests in flight: a pool of 1 must overflow
    config = MeshConfig(rps=40, seed=3, rules_dir=str(rules), faults={"reviews": Fault(latency_ms=100)})
    stack = Stack(config, settings=settings).start()
    try:
        yield stack
    finally:
        stack.stop()


def post(stack: Stack, path: str, body: dict[str, Any]) -> Any:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", "X-Requested-By": "observe"}
    request = urllib.request.Request(stack.api_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers=headers)  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def uo_rate(stack: Stack) -> float:
    edges = {(e["source"], e["target"]): e for e in stack.api("/api/v1/topology", window="6s")["edges"]}
    edge = edges.get(UNREACHED)
    return float(edge["flags"].get("UO", 0.0)) if edge else 0.0


def test_pool_limit_gives_uo_and_revert_removes_it(breaker_stack: Stack) -> None:
    time.sleep(8)
    assert uo_rate(breaker_stack) == 0.0  # no rule yet: nothing is rejected
    applied = post(breaker_stack, "/api/v1/destination-rules/bookinfo/reviews", {
        "spec": {"connectionPool": {"tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}},
        "reason": "integration test"})  # fmt: skip
    assert applied["applied"] is True and "maxConnections: 1" in applied["diff"]
    time.sleep(10)
    assert uo_rate(breaker_stack) > 1.0  # rejections at the caller, reported apart as UO
    entries = breaker_stack.api("/api/v1/audit")["entries"]
    assert entries[0]["reason"] == "integration test"
    post(breaker_stack, f"/api/v1/audit/{applied['audit_id']}/revert", {"reason": "undo"})
    time.sleep(10)
    assert uo_rate(breaker_stack) == 0.0
