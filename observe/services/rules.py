"""Whether observe's recording rules exist in the Prometheus behind, checked now and then (mode `auto`).

A cheap `count(rule)` tells. The answer is cached for `ttl_s`; a failed check counts as "no rules" and is
retried sooner, so a Prometheus outage at start does not pin observe to raw series for long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from observe.errors import BadQuery, SourceUnavailable
from observe.services.telemetry import SelfMetrics
from observe.sources.istio_queries import RULE_BUCKETS, RULE_REQUESTS, rules_usable
from observe.sources.ports import MetricsSource

MODES = ("auto", "on", "off")


@dataclass
class RulesProbe:
    source: MetricsSource
    mode: str = "auto"
    metrics: SelfMetrics = field(default_factory=SelfMetrics)
    clock: Callable[[], float] = time.time
    ttl_s: float = 300.0
    retry_s: float = 30.0
    timeout_s: float = 5.0
    _present: bool = False
    _next_check: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise BadQuery(f"invalid recording_rules '{self.mode}': expected auto, on or off", field="recording_rules")

    async def use_rules(self, window_s: float) -> bool:
        """True when a live view of this window should read the recording rules."""
        if self.mode == "off" or not rules_usable(window_s):
            return False
        return self.mode == "on" or await self._present_now()

    async def _present_now(self) -> bool:
        async with self._lock:  # one check at a time, shared by every waiting viewer
            now = self.clock()
            if now >= self._next_check:
                self._present, ok = await self._check(now)
                self._next_check = now + (self.ttl_s if ok else self.retry_s)
                self.metrics.recording_rules.set(1 if self._present else 0)
        return self._present

    async def _check(self, now: float) -> tuple[bool, bool]:
        try:
            for rule in (RULE_REQUESTS, RULE_BUCKETS):
                if not await self.source.query(f"count({rule})", now, self.timeout_s):
                    return False, True
            return True, True
        except SourceUnavailable:
            return False, False
