"""Concurrent viewers against a real `observe serve` (its own process) on a live stack.

Phase one: one viewer; phase two: `viewers` viewers, each asking in a loop (bounded by count and time) for
the topology of one of six namespace selections (five of three namespaces, and the whole mesh). Read from
the API's own /metrics before and after each phase: PromQL queries issued and live refreshes done, so queries
per refresh can be compared; the viewers' latencies give the API's p50/p95 under load; the API process's RSS
is sampled all along (graph, snapshots and memoised answers of a real service under load).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import tempfile
import time
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.stack import LiveStack
from benchmarks.timing import quantile
from observe.demo.prometheus import free_port


def _counters(text: str) -> tuple[float, float]:
    queries = refreshes = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "observe_promql_queries_total":
                queries += sample.value
            elif sample.name == "observe_refresh_duration_seconds_count" and sample.labels.get("kind") == "live":
                refreshes += sample.value
    return queries, refreshes


async def _phase(api: str, viewers: int, selections: list[str], requests: int, phase_s: float) -> dict[str, Any]:
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.get(f"{api}/metrics") as resp:
            before = _counters(await resp.text())
        deadline = time.monotonic() + phase_s

        async def viewer(seed: int) -> None:
            rng = random.Random(seed)
            selection = rng.choice(selections)
            for _ in range(requests):
                begin = time.perf_counter()
                async with session.get(f"{api}/api/v1/topology", params={"namespace": selection}) as resp:
                    await resp.read()
                    resp.raise_for_status()
                latencies.append(time.perf_counter() - begin)
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(rng.uniform(0.5, 1.5))  # a viewer re-reads now and then, not in a tight loop

        await asyncio.gather(*(viewer(i) for i in range(viewers)))
        async with session.get(f"{api}/metrics") as resp:
            after = _counters(await resp.text())
    queries, refreshes = after[0] - before[0], after[1] - before[1]
    return {
        "viewers": viewers,
        "requests": len(latencies),
        "queries": queries,
        "refreshes": refreshes,
        "queries_per_refresh": queries / refreshes if refreshes else float("nan"),
        "api_p50_s": quantile(latencies, 0.5),
        "api_p95_s": quantile(latencies, 0.95),
    }


async def run(
    stack: LiveStack, viewers: int = 50, requests: int = 60, phase_s: float = 30.0, refresh_s: int = 5
) -> dict[str, Any]:
    """Each phase lasts `phase_s` (a viewer stops after `requests` reads); viewers share 5 namespace selections,
    as viewers of a release screen do."""
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    workdir = tempfile.TemporaryDirectory(prefix="observe-bench-")  # the API's audit log lands here
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "observe", "serve", "--prometheus-url", stack.url, "--port", str(port),
        "--refresh", f"{refresh_s}s", "--query-timeout", "60s", "--recording-rules", "off", cwd=workdir.name,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await _wait_up(api, process)
        rng = random.Random(1)
        namespaces = [f"ns-{i}" for i in range(stack.config.namespaces)]
        selections = [",".join(rng.sample(namespaces, min(3, len(namespaces)))) for _ in range(5)] + [""]
        rss = [rss_mb(process.pid)]  # started, nothing asked yet
        sampler = asyncio.create_task(_sample_rss(process.pid, rss))
        try:
            one = await _phase(api, 1, selections, requests, phase_s)
            many = await _phase(api, viewers, selections, requests, phase_s)
        finally:
            sampler.cancel()
        return {"one": one, "many": many, "rss_start_mb": rss[0], "rss_end_mb": rss_mb(process.pid),
                "rss_max_mb": max(rss), "run_s": 2 * phase_s}  # fmt: skip
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:  # still answering a backlog on a loaded machine
            process.kill()
            await process.wait()
        workdir.cleanup()


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:  # Linux: the benchmarks run here
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _sample_rss(pid: int, into: list[float]) -> None:
    while True:
        await asyncio.sleep(0.5)
        into.append(rss_mb(pid))


async def _wait_up(api: str, process: asyncio.subprocess.Process, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline and process.returncode is None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{api}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.3)
    raise RuntimeError(f"observe serve did not answer on {api} (exit status {process.returncode})")
