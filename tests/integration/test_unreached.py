"""Requests that never reach a workload (a workload down → UF/503 at the caller) and time travel.

Runs after test_topology (file order), because it changes the mesh."""

from __future__ import annotations

import time

from observe.demo.mesh import Fault
from tests.integration.stack import Stack

UNREACHED = ("bookinfo/productpage/v1", "bookinfo/svc/reviews")


def test_down_workload_gives_an_edge_to_the_service_node_and_time_travel_shows_before(stack: Stack) -> None:
    before = time.time() - 1
    stack.set_fault("reviews-v3", Fault(down=True))
    try:
        time.sleep(8)
        during = time.time() - 1
        answer = stack.api("/api/v1/topology", window="10s", at=during)
    finally:
        stack.set_fault("reviews-v3", None)
    edges = {(e["source"], e["target"]): e for e in answer["edges"]}
    assert UNREACHED in edges, sorted(edges)
    unreached = edges[UNREACHED]
    assert unreached["reporters"] == ["source"] and "UF" in unreached["flags"]
    assert set(unreached["responses"]) == {"503"} and unreached["success_rate"] == 0.0
    node = next(n for n in answer["nodes"] if n["id"] == "bookinfo/svc/reviews")
    assert node["kind"] == "service"
    # the same view just before the fault has no such edge
    earlier = stack.api("/api/v1/topology", window="10s", at=before)
    assert UNREACHED not in {(e["source"], e["target"]) for e in earlier["edges"]}
