"""Canary vs stable on the real demo mesh and a real Prometheus.

reviews-v2 and reviews-v3 behave alike in Bookinfo (both call ratings), so they are the like-for-like pair:
first compared as they are (never FAIL or CRITICAL), then with v3 given +10% errors and +100 ms (FAIL or
CRITICAL, and the reason names both)."""

from __future__ import annotations

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

    canary_stack.set_fault("reviews-v3", Fault(error_ratio=0.1, latency_ms=100))
    time.sleep(35)
    bad = compare(canary_stack, "30s")
    reason = str(bad["reason"])
    assert bad["verdict"] in ("FAIL", "CRITICAL"), reason
    assert "errors" in reason and "latency" in reason
