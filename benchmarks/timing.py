"""Timing helpers shared by the benchmarks: best CPU time of repeated runs (noise only ever adds time), and
order statistics of wall-clock samples (the machine is shared, so medians and p95 rather than single runs)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence


def best_cpu_s(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        begin = time.process_time()
        fn()
        best = min(best, time.process_time() - begin)
    return best


def cpu_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) CPU milliseconds of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        begin = time.process_time()
        fn()
        runs.append((time.process_time() - begin) * 1000)
    return min(runs), quantile(runs, 0.5)


def quantile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (p95 of 20 samples is the 19th smallest); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
