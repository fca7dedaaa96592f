"""A live stack for the benchmarks: the synthetic Istio exporter in its own process, scraped by a real
Prometheus (observe.demo.prometheus), optionally with observe's recording rules loaded.

The exporter runs apart so its rendering never competes with the measured code for this process's GIL.
`start()` returns once Prometheus can answer a 1m rate (two scrapes) and, with rules, once the rules have
been evaluated; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from observe.demo.prometheus import PrometheusProcess
from observe.demo.synthetic import SyntheticConfig
from observe.sources.istio_queries import RULE_BUCKETS

RULES_FILE = Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "observe-rules.yaml"


@dataclass
class LiveStack:
    config: SyntheticConfig
    scrape_interval_s: float = 5.0
    rules: bool = False
    start_timeout_s: float = 180.0
    series: int = 0
    prometheus: PrometheusProcess | None = None
    _exporter: asyncio.subprocess.Process | None = None
    _http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        assert self.prometheus is not None
        return self.prometheus.url

    async def start(self) -> None:
        c = self.config
        self._exporter = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "observe.demo.synthetic", "--services", str(c.services), "--edges", str(c.edges),
            "--namespaces", str(c.namespaces), "--seed", str(c.seed), stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self._exporter.stdout is not None
        line = (await asyncio.wait_for(self._exporter.stdout.readline(), self.start_timeout_s)).decode().split()
        url, self.series = line[0], int(line[1])
        target = url.split("/")[2]
        self.prometheus = PrometheusProcess([target], "/metrics", scrape_interval_s=self.scrape_interval_s,
                                            rule_files=[str(RULES_FILE)] if self.rules else ())  # fmt: skip
        await self.prometheus.start(timeout_s=self.start_timeout_s)
        await self._wait_for("sum(rate(istio_requests_total[1m])) > 0")
        if self.rules:
            await self._wait_for(f"count({RULE_BUCKETS}) > 0")

    async def _wait_for(self, promql: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self.query_json, promql):
                return
            await asyncio.sleep(self.scrape_interval_s / 2)
        raise TimeoutError(f"Prometheus never answered {promql!r} with data")

    def raw_query(self, promql: str, at: float | None = None, timeout_s: float = 60.0) -> tuple[float, bytes]:
        """(seconds, body) of one instant query over plain HTTP: Prometheus's time plus the transfer."""
        params = {"query": promql, "time": f"{time.time() if at is None else at:.3f}", "timeout": f"{timeout_s:g}s"}
        begin = time.perf_counter()
        response = self._http.get(f"{self.url}/api/v1/query", params=params, timeout=timeout_s + 5)
        response.raise_for_status()
        return time.perf_counter() - begin, response.content

    def query_json(self, promql: str) -> list[dict[str, object]]:
        result: list[dict[str, object]] = requests.get(
            f"{self.url}/api/v1/query", params={"query": promql}, timeout=30
        ).json()["data"]["result"]
        return result

    async def stop(self) -> None:
        if self.prometheus is not None:
            await self.prometheus.stop()
        if self._exporter is not None and self._exporter.returncode is None:
            self._exporter.terminate()
            await self._exporter.wait()
        self._http.close()

    async def __aenter__(self) -> LiveStack:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
