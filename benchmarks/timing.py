"""Timing helpers shared by the benchmarks: best CPU time of repeated runs (noise only ever adds time)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_cpu_s(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        begin = time.process_time()
        fn()
        best = min(best, time.process_time() - begin)
    return best
