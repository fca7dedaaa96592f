"""mTLS per edge, mirrored traffic and the compare strategy on the demo mesh, through the real Prometheus.

The demo's sidecars talk mTLS to each other and the load generator (no sidecar) calls productpage in plaintext.
After a mirror edit made through the API (rules directory shared with the mesh), the productpage→reviews-v3 edge
carries a mirror block, no `-shadow` node appears in any graph type, and the comparison of v3 judges its
responses to the copies. Every wait is a bounded poll."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from observe.demo.mesh import MeshConfig
from tests.integration.stack import Stack, editing_stack

pytestmark = pytest.mark.integration

WAIT_S = 60.0
PRODUCTPAGE, REVIEWS_V3 = "bookinfo/productpage/v1", "bookinfo/reviews/v3"
T = TypeVar("T")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    rules: Path = tmp_path_factory.mktemp("rules")
    running = editing_stack(rules, MeshConfig(rps=30, seed=11))
    try:
        yield running
    finally:
        running.stop()


def poll(read: Callable[[], T], holds: Callable[[T], bool]) -> T:
    """`read()` until its answer satisfies `holds` or WAIT_S pass; the last answer either way."""
    deadline = time.monotonic() + WAIT_S
    while not holds(answer := read()) and time.monotonic() < deadline:
        time.sleep(1.0)
    return answer


def edges(stack: Stack, graph: str = "versioned-app", window: str = "30s") -> dict[tuple[str, str], Any]:
    body = stack.api("/api/v1/topology", graph=graph, window=window)
    return {(e["source"], e["target"]): e for e in body["edges"]}


def test_security_on_every_metric_edge_then_mirror_is_apart(stack: Stack) -> None:
    bookinfo = {("unknown", PRODUCTPAGE), (PRODUCTPAGE, "bookinfo/details/v1"), (PRODUCTPAGE, REVIEWS_V3)}
    seen = poll(lambda: edges(stack), lambda e: all(k in e and "metrics" in e[k]["seen_by"] for k in bookinfo))
    metric_edges = [e for e in seen.values() if "metrics" in e["seen_by"] and e["reporters"] == ["destination"]]
    assert metric_edges and all(e["security"] in ("mutual_tls", "none", "mixed") for e in metric_edges)
    assert seen[("unknown", PRODUCTPAGE)]["security"] == "none"  # the load generator has no sidecar
    assert seen[(PRODUCTPAGE, "bookinfo/details/v1")]["security"] == "mutual_tls"
    assert all(e["mirror"] is None for e in seen.values())

    versions = {"versions": ["v1", "v2", "v3"], "reason": "it"}
    stack.post("/api/v1/traffic/bookinfo/reviews", {"strategy": "weights", "weights": {"v1": 100, "v2": 0, "v3": 0},
                                                     **versions})  # fmt: skip
    stack.post("/api/v1/traffic/bookinfo/reviews", {"strategy": "mirror", "version": "v3", "mirror_percent": 50,
                                                     **versions})  # fmt: skip
    mirrored = poll(lambda: edges(stack).get((PRODUCTPAGE, REVIEWS_V3)), lambda e: bool(e and e["mirror"]))
    assert mirrored is not None and mirrored["mirror"]["rps"] > 0
    for graph in ("versioned-app", "app", "service", "workload"):
        body = stack.api("/api/v1/topology", graph=graph, window="30s")
        assert not [n["id"] for n in body["nodes"] if "shadow" in n["id"]], graph

    # Once the window holds copies only, the comparison of v3 judges its responses to them.
    def compare() -> Any:
        return stack.api("/api/v1/compare", namespace="bookinfo", service="reviews", baseline="v1", canary="v3",
                         window="10s")  # fmt: skip

    answer = poll(compare, lambda a: a.get("mode") == "mirror")
    assert answer["mode"] == "mirror" and answer["strategy"]["kind"] == "mirror"
    assert answer["traffic"]["v1"]["configured_weight"] == 100 and answer["traffic"]["v3"]["configured_weight"] == 0
    only_copies = poll(lambda: edges(stack, window="10s").get((PRODUCTPAGE, REVIEWS_V3)),
                       lambda e: bool(e and e["mirror"] and e["rps"] == 0))  # fmt: skip
    assert only_copies is not None and only_copies["rps"] == 0 and only_copies["mirror"]["rps"] > 0
