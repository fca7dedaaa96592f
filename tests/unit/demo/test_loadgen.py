"""The load generator: steady open-loop rate, bounded concurrency, timeouts, and honest counters."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from observe.demo.loadgen import LoadGenerator, validate_rps
from observe.demo.workload import bind_socket
from tests.unit.demo.conftest import MeshFactory

Target = Callable[..., Awaitable[tuple[str, list[float]]]]


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    """A loopback server answering after `delay_s` with `status`; returns its URL and arrival times."""
    runners: list[web.AppRunner] = []

    async def start(delay_s: float = 0.0, status: int = 200) -> tuple[str, list[float]]:
        arrivals: list[float] = []

        async def handle(request: web.Request) -> web.Response:
            arrivals.append(time.monotonic())
            await asyncio.sleep(delay_s)
            return web.Response(status=status)

        app = web.Application()
        app.router.add_get("/", handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        runners.append(runner)
        sock = bind_socket("127.0.0.1")
        await web.SockSite(runner, sock).start()
        return f"http://127.0.0.1:{sock.getsockname()[1]}/", arrivals

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_rate_is_steady_and_counted(target: Target) -> None:
    url, arrivals = await target()
    load = LoadGenerator(url, rps=50)
    await load.start()
    await asyncio.sleep(2.0)
    await load.stop()
    stats = load.stats()
    assert 90 <= stats.sent <= 110  # 50 rps x 2 s
    assert stats.by_code == {"200": stats.sent} and stats.completed == stats.sent
    assert stats.skipped == 0 and stats.errors == {} and stats.in_flight == 0
    assert len(arrivals) == stats.sent
    assert 45 <= stats.achieved_rps <= 55
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Open loop at 20 ms spacing: no bursts (no near-simultaneous pairs beyond jitter) and no stall of many
    # periods (a busy CI machine delays a wake-up by tens of ms, so the bound is 25 periods, not a timing target).
    assert sum(g < 0.005 for g in gaps) <= len(gaps) * 0.1
    assert max(gaps) < 0.5


async def test_open_loop_does_not_wait_for_slow_responses(target: Target) -> None:
    url, arrivals = await target(delay_s=0.5)
    load = LoadGenerator(url, rps=40, max_in_flight=100)
    await load.start()
    await asyncio.sleep(1.0)
    assert 30 <= len(arrivals) <= 50  # ~40 started although none has completed yet
    assert load.stats().completed <= 25
    await load.stop()


async def test_concurrency_is_bounded_and_overflow_counted(target: Target) -> None:
    url, _ = await target(delay_s=5.0)
    load = LoadGenerator(url, rps=50, max_in_flight=5)
    await load.start()
    await asyncio.sleep(0.6)
    stats = load.stats()
    assert stats.in_flight == 5 and stats.sent == 5
    assert stats.skipped >= 15
    await load.stop(grace_s=0.1)
    assert load.stats().in_flight == 0


async def test_timeouts_and_connection_errors_are_counted(target: Target) -> None:
    url, _ = await target(delay_s=2.0)
    load = LoadGenerator(url, rps=20, timeout_s=0.1)
    await load.start()
    await asyncio.sleep(0.5)
    await load.stop(grace_s=0.5)
    assert load.stats().errors.get("timeout", 0) >= 5
    assert "200" not in load.stats().by_code

    sock = bind_socket("127.0.0.1")
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    refused = LoadGenerator(f"http://127.0.0.1:{port}/", rps=20)
    await refused.start()
    await asyncio.sleep(0.3)
    await refused.stop()
    assert refused.stats().errors.get("connection", 0) >= 3


async def test_rate_changes_and_pause(target: Target) -> None:
    url, arrivals = await target()
    load = LoadGenerator(url, rps=0)
    await load.start()
    await asyncio.sleep(0.3)
    assert arrivals == []
    load.set_rps(100)
    await asyncio.sleep(0.5)
    load.set_rps(0)
    await asyncio.sleep(0.05)
    count = len(arrivals)
    assert 40 <= count <= 60
    await asyncio.sleep(0.3)
    assert len(arrivals) == count
    await load.stop()
    with pytest.raises(ValueError):
        load.set_rps(float("inf"))
    with pytest.raises(ValueError):
        validate_rps(-1)


async def test_mesh_load_reaches_productpage(make_mesh: MeshFactory) -> None:
    mesh = await make_mesh(rps=40)
    await asyncio.sleep(1.0)
    stats = mesh.load_stats()
    assert 32 <= stats.sent <= 48
    assert set(stats.by_code) == {"200"}
    mesh.set_rps(0)
    await asyncio.sleep(0.1)
    assert mesh.load_stats().target_rps == 0
