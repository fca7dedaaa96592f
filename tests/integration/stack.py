"""The demo stack for integration tests: the demo mesh, a real Prometheus scraping it, and the observe API,
all on 127.0.0.1, run on an event loop in a background thread so tests talk to it over HTTP only."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from observe.api.app import create_app
from observe.cli.serve import start_site
from observe.demo.mesh import DemoMesh, Fault, MeshConfig
from observe.demo.prometheus import PrometheusProcess, free_port
from observe.settings import Settings

T = TypeVar("T")
WRITE_TOKEN = "integration-token"


@dataclass
class Stack:
    config: MeshConfig
    settings: Settings = field(default_factory=Settings)
    scrape_interval_s: float = 2.0  # 1 s scrapes miss samples when the machine is busy
    rule_files: tuple[str, ...] = ()
    mesh: DemoMesh | None = None
    prometheus: PrometheusProcess | None = None
    api_url: str = ""
    scraping_since: float = 0.0  # wall clock when Prometheus was up: no sample of the mesh is older
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    def start(self) -> Stack:
        self._thread = threading.Thread(target=self._loop.run_forever, name="stack", daemon=True)
        self._thread.start()
        self.run(self._start())
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    async def _start(self) -> None:
        """API first (so spans have a receiver from the first request), then the mesh, then Prometheus."""
        prometheus_port = free_port()
        settings = replace(self.settings, prometheus_url=f"http://127.0.0.1:{prometheus_port}", port=0,
                           scrape_interval=f"{self.scrape_interval_s:g}s")  # fmt: skip
        self._runner, api_port = await start_site(create_app(settings), "127.0.0.1", 0)
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.mesh = DemoMesh(replace(self.config, otlp_endpoint=f"{self.api_url}/v1/traces"))
        await self.mesh.start()
        self.prometheus = PrometheusProcess(self.mesh.scrape_targets, self.mesh.metrics_path,
                                            scrape_interval_s=self.scrape_interval_s, port=prometheus_port,
                                            rule_files=self.rule_files)  # fmt: skip
        await self.prometheus.start()
        self.scraping_since = time.time()

    def stop(self) -> None:
        async def _stop() -> None:
            if self.prometheus:
                await self.prometheus.stop()
            if self.mesh:
                await self.mesh.stop()
            if self._runner:
                await self._runner.cleanup()

        try:
            self.run(_stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread:
                self._thread.join(10)

    @property
    def app(self) -> web.Application:
        assert self._runner is not None
        return self._runner.app

    def set_fault(self, workload: str, fault: Fault | None) -> None:
        """Applied on the mesh's own loop (taking a workload down closes its listener there)."""
        mesh = self.mesh
        assert mesh is not None

        async def apply() -> None:
            mesh.set_fault(workload, fault)
            await mesh.settle()

        self.run(apply())

    def api(self, path: str, **params: Any) -> Any:
        return get_json(self.api_url + path, params)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """A write as an authorised client sends it: bearer token and the CSRF header."""
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {WRITE_TOKEN}",
                   "X-Requested-By": "observe"}  # fmt: skip
        request = urllib.request.Request(self.api_url + path, data=json.dumps(body).encode(), method="POST",
                                         headers=headers)  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def promql(self, query: str, at: float) -> list[dict[str, Any]]:
        assert self.prometheus is not None
        answer = get_json(self.prometheus.url + "/api/v1/query", {"query": query, "time": at})
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def metric_value(self, name: str, labels: str) -> float:
        text = get_text(self.api_url + "/metrics")
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}} "):
                return float(line.split()[-1])
        return 0.0


def editing_stack(rules: Path, config: MeshConfig) -> Stack:
    """A started stack whose API edits the rules directory the mesh obeys, writes on (token WRITE_TOKEN)."""
    settings = Settings(rules_dir=str(rules), audit_db=str(rules.parent / "audit.sqlite3"), allow_writes=True,
                        write_token=WRITE_TOKEN)  # fmt: skip
    return Stack(replace(config, rules_dir=str(rules)), settings=settings).start()


def get_text(url: str, params: dict[str, Any] | None = None) -> str:
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
    return body.decode()


def get_json(url: str, params: dict[str, Any] | None = None) -> Any:
    return json.loads(get_text(url, params))
