"""Canary vs stable on the real demo mesh and a real Prometheus.

reviews-v2 and reviews-v3 behave alike in Bookinfo (both call ratings), so they are the like-for-like pair:
first compared as they are (never FAIL or CRITICAL), then with v3 given +10% errors and +100 ms (FAIL or
CRITICAL, and the reason names both)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from observe.demo.mesh import Fault, MeshConfig
from tests.integration.stack import Stack


@pytest.fixture(scope="module")
def canary_stack() -> Iterator[Stack]:
    stack = Stack(MeshConfig(rps=40, seed=11, reviews_weights={"v1": 0, "v2": 1, "v3": 1})).start()
    try:
        yield stack
    finally:
        stack.stop()


def compare(stack: Stack, window: str) -> dict[str, object]:
    answer: dict[str, object] = stack.api("/api/v1/compare", namespace="bookinfo", service="reviews",
                                          baseline="v2", canary="v3", window=window)  # fmt: skip
    return answer


def test_identical_versions_never_fail_then_a_bad_canary_does(canary_stack: Stack) -> None:
    time.sleep(40)
    same = compare(canary_stack, "30s")
    assert same["verdict"] not in ("FAIL", "CRITICAL"), same["reason"]
    assert same["verdict"] in ("PASS", "MARGINAL", "INSUFFICIENT_DATA"), same["reason"]
    traces = same["metrics"]["latency_traces"]  # type: ignore[index]
    assert traces["baseline"]["n"] > 0 and traces["canary"]["n"] > 0  # exact latencies from the received spans
    assert traces["ecdf"]["canary"][-1][1] == 1.0

    canary_stack.set_fault("reviews-v3", Fault(error_ratio=0.1, latency_ms=100))
    time.sleep(35)
    bad = compare(canary_stack, "30s")
    reason = str(bad["reason"])
    assert bad["verdict"] in ("FAIL", "CRITICAL"), reason
    assert "errors" in reason and "latency" in reason
    shift = bad["metrics"]["latency_traces"]["hodges_lehmann_shift"]  # type: ignore[index]
    assert shift["ci_ms"][0] > 50  # the +100 ms seen exactly in the spans, not only in buckets
    cli = subprocess.run([sys.executable, "-m", "observe", "compare", "bookinfo/reviews", "--baseline", "v2",
                          "--canary", "v3", "--window", "30s", "--api-url", canary_stack.api_url],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert cli.returncode == 1 and "verdict: " in cli.stdout, cli.stdout + cli.stderr  # usable in a pipeline
