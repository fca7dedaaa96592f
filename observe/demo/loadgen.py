"""The demo's load generator: traffic from outside the mesh to productpage at a steady rate.

Open loop: requests start on a fixed schedule (one every 1/rps seconds) whether or not earlier ones have
finished, as real users do, so a slow backend does not quietly lower the offered load. Concurrency is
bounded (a tick that finds `max_in_flight` requests outstanding is skipped and counted), every request has
a timeout, and every outcome is counted so the measured topology can be checked against the real rate.

Users: every `signed_in_every`-th request comes from a signed-in user, as after Bookinfo's login: it carries
`end-user: jason` and the cookie `user=jason` (productpage forwards both), so header and cookie routes of a
VirtualService see a steady, known share of the traffic (10% by default; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# Late ticks within this lag are caught up (keeps the average rate exact); beyond it the schedule restarts
# from now instead of firing a burst.
MAX_CATCH_UP_S = 0.25
IDLE_POLL_S = 1.0
MAX_RPS = 10_000.0
SIGNED_IN_HEADERS = {"end-user": "jason", "Cookie": "user=jason"}


def validate_rps(rps: Any) -> float:
    if isinstance(rps, bool) or not isinstance(rps, int | float) or not math.isfinite(rps):
        raise ValueError(f"rps must be a finite number, got {rps!r}")
    if not 0 <= rps <= MAX_RPS:
        raise ValueError(f"rps must be within [0, {MAX_RPS:g}], got {rps}")
    return float(rps)


@dataclass(frozen=True)
class LoadStats:
    """Counters of one load generator since it started."""

    started_at: float  # unix seconds
    elapsed_s: float
    target_rps: float
    sent: int
    completed: int
    in_flight: int
    skipped: int  # ticks dropped because max_in_flight requests were outstanding
    by_code: dict[str, int] = field(default_factory=dict)  # HTTP status → responses
    errors: dict[str, int] = field(default_factory=dict)  # "timeout" / "connection" → requests

    @property
    def achieved_rps(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_wire(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at, "elapsed_s": self.elapsed_s, "target_rps": self.target_rps,
            "achieved_rps": self.achieved_rps, "sent": self.sent, "completed": self.completed,
            "in_flight": self.in_flight, "skipped": self.skipped, "by_code": dict(self.by_code),
            "errors": dict(self.errors),
        }  # fmt: skip


class LoadGenerator:
    def __init__(self, url: str, rps: float = 10.0, *, max_in_flight: int = 64, timeout_s: float = 10.0,
                 signed_in_every: int = 10) -> None:  # fmt: skip
        if max_in_flight < 1 or timeout_s <= 0 or signed_in_every < 0:
            raise ValueError("max_in_flight must be >= 1, timeout_s > 0 and signed_in_every >= 0")
        self.signed_in_every = signed_in_every
        self.url = url
        self._rps = validate_rps(rps)
        self.max_in_flight = max_in_flight
        self.timeout_s = timeout_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._started_at = time.time()
        self._started_mono = time.monotonic()
        self._sent = self._completed = self._skipped = 0
        self._by_code: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()

    @property
    def rps(self) -> float:
        return self._rps

    def set_rps(self, rps: float) -> None:
        self._rps = validate_rps(rps)
        self._wake.set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.max_in_flight))
        self._started_at, self._started_mono = time.time(), time.monotonic()
        self._runner = asyncio.create_task(self._run(), name="demo-loadgen")

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop scheduling, give in-flight requests `grace_s` to finish, cancel the rest."""
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            await self._runner
            self._runner = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def stats(self) -> LoadStats:
        return LoadStats(
            started_at=self._started_at,
            elapsed_s=time.monotonic() - self._started_mono,
            target_rps=self._rps,
            sent=self._sent,
            completed=self._completed,
            in_flight=len(self._tasks),
            skipped=self._skipped,
            by_code=dict(self._by_code),
            errors=dict(self._errors),
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not self._stopping:
            self._wake.clear()
            rps = self._rps
            if rps <= 0:
                await self._sleep(IDLE_POLL_S)
                next_at = loop.time()
                continue
            now = loop.time()
            if next_at > now:
                if await self._sleep(next_at - now):
                    next_at = loop.time()  # rate changed: start the new schedule now
                continue
            self._fire()
            next_at += 1.0 / rps
            if next_at < now - MAX_CATCH_UP_S:
                next_at = now

    async def _sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when woken early by a rate change or stop."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
            return True
        except TimeoutError:
            return False

    def _fire(self) -> None:
        if len(self._tasks) >= self.max_in_flight:
            self._skipped += 1
            return
        self._sent += 1
        signed_in = self.signed_in_every > 0 and self._sent % self.signed_in_every == 0
        task = asyncio.create_task(self._one(SIGNED_IN_HEADERS if signed_in else None))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, headers: dict[str, str] | None) -> None:
        assert self._session is not None
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with self._session.get(self.url, timeout=timeout, headers=headers) as resp:
                await resp.read()
                self._by_code[str(resp.status)] += 1
        except TimeoutError:
            self._errors["timeout"] += 1
        except aiohttp.ClientError:
            self._errors["connection"] += 1
        self._completed += 1  # not reached when cancelled at stop()
