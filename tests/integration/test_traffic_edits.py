"""Traffic edits through the API change how the demo mesh routes, and reverting them restores it.

The API and the mesh share a rules directory (as a GitOps checkout is shared with the cluster); the mesh's
caller sidecars read its VirtualServices like Envoy. Traffic is measured as deltas of the destination
sidecars' own counters between two reads (read on the mesh's loop), and the mirror edge in the real Prometheus.
Every wait is a bounded poll."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from observe.demo.istio_metrics import LABEL_NAMES
from observe.demo.mesh import MeshConfig
from tests.integration.stack import Stack, editing_stack

VERSIONS = ["v1", "v2", "v3"]
SHADOW = "reviews.bookinfo.svc.cluster.local-shadow"
WAIT_S = 30.0
Window = Counter[str]  # "v1" / "v2" / "v3" (user traffic) and "v3-shadow" (mirrored copies) → requests


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    rules: Path = tmp_path_factory.mktemp("rules")
    running = editing_stack(rules, MeshConfig(rps=30, seed=5))
    try:
        yield running
    finally:
        running.stop()


def totals(stack: Stack) -> Window:
    """Requests each reviews version has served so far (reporter=destination), mirrored copies apart."""

    async def read() -> Window:
        assert stack.mesh is not None
        out: Window = Counter()
        for version in VERSIONS:
            for key, n in stack.mesh.istio_stats(f"reviews-{version}").requests().items():
                labels = dict(zip(LABEL_NAMES, key, strict=True))
                if labels["reporter"] == "destination" and labels["source_workload"] == "productpage-v1":
                    out[version + ("-shadow" if labels["destination_service"] == SHADOW else "")] += n
        return out

    return stack.run(read())


def window_until(stack: Stack, holds: Callable[[Window], bool], seconds: float = 3.0) -> Window:
    """The traffic of successive windows of `seconds` until one satisfies `holds` (at most WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        before = totals(stack)
        time.sleep(seconds)
        delta = totals(stack) - before
        if holds(delta) or time.monotonic() > deadline:
            return delta


def traffic(stack: Stack, body: dict[str, Any]) -> list[int]:
    answer = stack.post("/api/v1/traffic/bookinfo/reviews", {**body, "versions": VERSIONS, "reason": "it"})
    assert answer["applied"], answer
    ids: list[int] = answer["audit_ids"]
    return ids


def test_weights_header_routing_mirror_and_revert(stack: Stack) -> None:
    before = window_until(stack, lambda w: all(w[v] > 0 for v in VERSIONS))
    assert all(before[v] > 0 for v in VERSIONS)  # no VirtualService yet: every version serves

    edits = traffic(stack, {"strategy": "weights", "weights": {"v1": 100, "v2": 0, "v3": 0}})
    split = window_until(stack, lambda w: w["v1"] > 0 and w["v2"] == w["v3"] == 0)
    assert split["v1"] > 0 and split["v2"] == split["v3"] == 0

    edits += traffic(stack, {"strategy": "match", "version": "v2",
                             "match": {"kind": "header", "name": "end-user", "value": "jason"}})  # fmt: skip
    routed = window_until(stack, lambda w: w["v2"] > 0 and w["v3"] == 0)
    assert 0 < routed["v2"] < routed["v1"] and routed["v3"] == 0  # the signed-in tenth goes to v2

    edits += traffic(stack, {"strategy": "mirror", "version": "v3", "mirror_percent": 50})
    mirrored = window_until(stack, lambda w: w["v3-shadow"] > 0)
    assert mirrored["v3-shadow"] > 0 and mirrored["v3"] == 0  # copies only: v3 serves no user traffic
    deadline = time.monotonic() + WAIT_S
    query = f'sum by (source_workload, destination_workload) (istio_requests_total{{destination_service="{SHADOW}"}})'
    while not (edge := stack.promql(query, time.time())) and time.monotonic() < deadline:
        time.sleep(1.0)
    assert [e["metric"] for e in edge] == [{"source_workload": "productpage-v1", "destination_workload": "reviews-v3"}]

    for audit_id in reversed(edits):
        stack.post(f"/api/v1/audit/{audit_id}/revert", {"reason": "undo"})
    restored = window_until(stack, lambda w: all(w[v] > 0 for v in VERSIONS) and w["v3-shadow"] == 0)
    assert all(restored[v] > 0 for v in VERSIONS) and restored["v3-shadow"] == 0
    assert not (Path(stack.settings.rules_dir) / "virtualservices/bookinfo/reviews.yaml").exists()


def only(version: str) -> Callable[[Window], bool]:
    """A window where `version` served every user request (and nothing was mirrored)."""
    return lambda w: w[version] > 0 and all(w[v] == 0 for v in VERSIONS if v != version) and w["v3-shadow"] == 0


def test_blue_green_switches_all_traffic_and_back_in_one_step(stack: Stack) -> None:
    edits = traffic(stack, {"strategy": "blue-green", "version": "v1"})
    assert only("v1")(window_until(stack, only("v1")))

    green = stack.post("/api/v1/traffic/bookinfo/reviews",
                 {"strategy": "blue-green", "version": "v2", "versions": VERSIONS, "reason": "release"})  # fmt: skip
    edits += green["audit_ids"]
    assert only("v2")(window_until(stack, only("v2")))
    previous = green["objects"]["VirtualService"]["metadata"]["annotations"]["observe.io/blue-green-previous"]
    assert previous == "v1"
    # the blue version stays a subset, so switching back is one step that touches the VirtualService only
    assert {"v1", "v2"} <= {s["name"] for s in green["objects"]["DestinationRule"]["spec"]["subsets"]}

    back = traffic(stack, {"strategy": "blue-green", "version": previous})
    assert len(back) == 1
    edits += back
    assert only("v1")(window_until(stack, only("v1")))

    for audit_id in reversed(edits):
        stack.post(f"/api/v1/audit/{audit_id}/revert", {"reason": "undo"})
    restored = window_until(stack, lambda w: all(w[v] > 0 for v in VERSIONS))
    assert all(restored[v] > 0 for v in VERSIONS)
    assert not (Path(stack.settings.rules_dir) / "virtualservices/bookinfo/reviews.yaml").exists()
