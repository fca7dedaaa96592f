"""Source faults with the real Prometheus stopped, restarted and restarted with a tight sample limit: the API keeps
answering 200 with the last good topology marked stale, says in words what is missing, backs off instead of
hammering, stays ready (degraded), and recovers on its own. Every wait is bounded.

The stack is this module's own (not the session one): stopping its Prometheus must not disturb other tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from observe.demo.mesh import MeshConfig
from observe.demo.prometheus import PrometheusProcess
from observe.settings import Settings
from tests.integration.stack import Stack, get_json

WINDOW = "20s"
SETTINGS = Settings(refresh="2s", percentile_refresh="4s", query_timeout="2s")  # backoff cap = refresh = 2 s


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(MeshConfig(rps=20.0, seed=3), settings=SETTINGS).start()
    try:
        yield running
    finally:
        running.stop()


def wait_for(what: str, probe: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}")


def topology(stack: Stack) -> dict[str, Any]:
    answer: dict[str, Any] = stack.api("/api/v1/topology", window=WINDOW)
    return answer


def edges(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["source"], e["target"]) for e in answer["edges"]}


def restart_prometheus(stack: Stack, *extra_args: str) -> None:
    old, mesh = stack.prometheus, stack.mesh
    assert old is not None and mesh is not None
    stack.run(old.stop())
    stack.prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path, port=old.port,
                                         scrape_interval_s=stack.scrape_interval_s, extra_args=extra_args)  # fmt: skip
    stack.run(stack.prometheus.start())


def calls(stack: Stack, outcome: str) -> float:
    return stack.metric_value("observe_source_calls_total", f'outcome="{outcome}",source="prometheus"')


def test_dead_prometheus_serves_last_good_topology_stale_backs_off_and_stays_ready(stack: Stack) -> None:
    good = wait_for("a live topology", lambda: (a := topology(stack))["edges"] and not a["stale"] and a)
    assert stack.prometheus is not None
    stack.run(stack.prometheus.stop())
    stale = wait_for("a stale answer", lambda: (a := topology(stack))["stale"] and a)
    assert edges(stale) == edges(good) and stale["as_of"] >= good["as_of"]
    assert {m["source"] for m in stale["missing"]} == {"prometheus"}
    assert any("cannot connect" in m["error"] for m in stale["missing"])
    ready = get_json(stack.api_url + "/readyz")  # 200 (get_json raises otherwise): still serving
    assert ready["status"] == "degraded" and ready["sources"]["prometheus"]["state"] == "down"
    assert "cannot connect" in ready["sources"]["prometheus"]["error"]

    errors_before, requests = calls(stack, "error"), 0
    deadline = time.monotonic() + 6.0
    while time.monotonic() < deadline:  # 6 s of viewers: topology, series and compare, as fast as they come
        for path, params in (("/api/v1/topology", {"window": WINDOW}),
                             ("/api/v1/nodes/series", {"node": "bookinfo/reviews/v2", "window": WINDOW}),
                             ("/api/v1/compare", {"namespace": "bookinfo", "service": "reviews", "baseline": "v1",
                                                  "canary": "v2"})):  # fmt: skip
            answer = stack.api(path, **params)
            assert answer["missing"], path
            requests += 1
    attempts = calls(stack, "error") - errors_before
    # Each request would cost 2 to 5 queries without backoff; with it, about one probe per delay (≤ 2 s).
    assert requests >= 10 and attempts <= 12 and calls(stack, "skipped") > attempts


def test_restarted_prometheus_is_used_again_without_intervention(stack: Stack) -> None:
    restart_prometheus(stack)
    back = wait_for("a fresh topology", lambda: (a := topology(stack))["edges"] and not a["stale"] and a)
    assert back["missing"] == []
    ready = get_json(stack.api_url + "/readyz")
    assert ready["status"] == "ready" and ready["sources"]["prometheus"]["state"] == "up"


def test_too_many_samples_is_reported_in_words_and_does_not_back_off(stack: Stack) -> None:
    restart_prometheus(stack, "--query.max-samples=5")

    def refused() -> dict[str, Any] | None:
        answer = topology(stack)
        return answer if any("too many samples" in m["error"] for m in answer["missing"]) else None

    answer = wait_for("a too-many-samples refusal", refused)
    message = next(m["error"] for m in answer["missing"] if "too many samples" in m["error"])
    assert "HTTP 422" in message and "--query.max-samples" in message and "recording rules" in message
    ready = get_json(stack.api_url + "/readyz")
    assert ready["sources"]["prometheus"]["state"] == "up"  # alive, just refusing big queries
    assert calls(stack, "rejected") > 0
    restart_prometheus(stack)  # leave a working Prometheus for the stack's teardown
