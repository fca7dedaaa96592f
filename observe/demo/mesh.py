"""The demo mesh: Bookinfo (productpage → details, reviews v1/v2/v3 → ratings) as real aiohttp services on
loopback, each with an Envoy-like sidecar, plus a control endpoint and a load generator.

Every workload binds its own free port (port 0, read back) and serves both its app and its Istio metrics at
`/stats/prometheus`; `scrape_targets` lists them for Prometheus. Nothing listens beyond `config.host`, which
must be a loopback address (or 0.0.0.0 inside a container, where the mesh still calls itself over loopback).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from observe.demo.control import build_control_app
from observe.demo.faults import Fault
from observe.demo.identity import BOOKINFO, ENTRY_APP, SERVICE_TIME_MS, identity_for
from observe.demo.istio_metrics import IstioStats
from observe.demo.loadgen import LoadGenerator, LoadStats, validate_rps
from observe.demo.routing import Routes, validate_weights
from observe.demo.sidecar import METRICS_PATH, Sidecar
from observe.demo.tracing import EXPORT_TIMEOUT_S, SpanExporterFactory, WorkloadTracer, otlp_exporter_factory
from observe.demo.traffic_policy import RulesCache, RulesTrafficPolicy
from observe.demo.workload import SHUTDOWN_S, Workload, bind_socket
from observe.errors import NotFound

__all__ = ["DemoMesh", "Fault", "LoadStats", "MeshConfig"]

log = logging.getLogger(__name__)


def _equal_reviews() -> dict[str, float]:
    return {"v1": 1.0, "v2": 1.0, "v3": 1.0}


@dataclass
class MeshConfig:
    namespace: str = "bookinfo"
    rps: float = 10.0
    reviews_weights: dict[str, float] = field(default_factory=_equal_reviews)
    faults: dict[str, Fault] = field(default_factory=dict)  # by workload (or app) name
    otlp_endpoint: str | None = None  # e.g. http://127.0.0.1:8080/v1/traces; None: no tracing at all
    sampling_ratio: float = 1.0
    host: str = "127.0.0.1"  # 0.0.0.0 only inside a container, for Prometheus in another one
    port_base: int = 0  # the workloads listen on port_base + i in Bookinfo order; 0: free ports
    seed: int | None = None
    route_timeout_s: float = 3.0  # per outbound call, as a VirtualService timeout (→ 504 UT)
    load_timeout_s: float = 10.0  # per load-generator request
    max_in_flight: int = 64  # load generator concurrency bound
    control_port: int = 0
    # Own work time of each app, log-normal around identity.SERVICE_TIME_MS × this scale; 0: none (tests).
    service_time_scale: float = 0.0
    # A rules directory (destinationrules/<ns>/<name>.yaml, virtualservices/<ns>/<name>.yaml) whose circuit
    # breakers and routes every client sidecar obeys; None: no DestinationRules and no VirtualServices.
    rules_dir: str | None = None


class DemoMesh:
    metrics_path: str = METRICS_PATH

    def __init__(self, config: MeshConfig, *, span_exporter_factory: SpanExporterFactory | None = None) -> None:
        """`span_exporter_factory` overrides the OTLP exporter (tests pass in-memory exporters)."""
        address = ipaddress.ip_address(config.host)
        if address.version != 4 or not (address.is_loopback or address.is_unspecified):
            raise ValueError(f"the demo mesh listens on IPv4 loopback (or 0.0.0.0 in a container), got {config.host!r}")
        validate_rps(config.rps)
        validate_weights([s.version for s in BOOKINFO if s.app == "reviews"], config.reviews_weights)
        if not 0.0 <= config.sampling_ratio <= 1.0:
            raise ValueError(f"sampling_ratio must be within [0, 1], got {config.sampling_ratio}")
        if config.route_timeout_s <= 0 or config.load_timeout_s <= 0 or config.max_in_flight < 1:
            raise ValueError("timeouts must be positive and max_in_flight at least 1")
        self.config = config
        self._exporters = span_exporter_factory or (
            otlp_exporter_factory(config.otlp_endpoint) if config.otlp_endpoint else None
        )
        self._workloads: dict[str, Workload] = {}
        self._faults: dict[str, Fault] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._control: web.AppRunner | None = None
        self._control_port = 0
        self._load: LoadGenerator | None = None
        self._final_stats: LoadStats | None = None
        self._rules = RulesCache(config.rules_dir) if config.rules_dir else None
        self._routes = Routes(config.namespace, self._rules.virtual_service if self._rules is not None else None)
        for name, fault in config.faults.items():
            for workload in self._resolve(name):
                self._faults[workload] = fault

    async def start(self) -> None:
        if self._workloads:
            raise RuntimeError("the demo mesh is already running")
        try:
            for spec in BOOKINFO:
                workload = self._build(spec.workload)
                self._workloads[spec.workload] = workload
                self._routes.add(workload.endpoint)
            self._routes.set_weights("reviews", self.config.reviews_weights)
            for workload in self._workloads.values():
                await workload.start()
                await workload.apply_fault()
            await self._start_control()
            self._load = LoadGenerator(
                self.entry_url,
                self.config.rps,
                max_in_flight=self.config.max_in_flight,
                timeout_s=self.config.load_timeout_s,
            )
            await self._load.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Load first (so no new requests), then the control endpoint, workloads, and span export last."""
        if self._load is not None:
            await self._load.stop()
            self._final_stats = self._load.stats()
            self._load = None
        if self._control is not None:
            await self._control.cleanup()
            self._control = None
        await self.settle()
        workloads, self._workloads = list(self._workloads.values()), {}
        for result in await asyncio.gather(*(w.stop() for w in workloads), return_exceptions=True):
            if isinstance(result, BaseException):
                log.warning("demo workload did not stop cleanly: %r", result)
        tracers = [w.sidecar.tracer for w in workloads if w.sidecar.tracer is not None]
        if tracers:
            shutdowns = asyncio.gather(*(asyncio.to_thread(t.shutdown) for t in tracers))
            try:
                await asyncio.wait_for(shutdowns, timeout=2 * EXPORT_TIMEOUT_S)
            except TimeoutError:
                log.warning("span export did not finish within %.0f s; some spans are lost", 2 * EXPORT_TIMEOUT_S)

    @property
    def scrape_targets(self) -> list[str]:
        return [w.endpoint.address for w in self._workloads.values()]

    @property
    def entry_url(self) -> str:
        entry = self._workload_of_app(ENTRY_APP)
        return entry.endpoint.url("/productpage")

    @property
    def control_url(self) -> str:
        if not self._control_port:
            raise RuntimeError("the demo mesh is not started")
        host = "127.0.0.1" if self.config.host == "0.0.0.0" else self.config.host
        return f"http://{host}:{self._control_port}"

    def workload(self, name: str) -> Workload:
        if name not in self._workloads:
            raise NotFound(f"unknown workload {name!r}", field="workload")
        return self._workloads[name]

    def istio_stats(self, workload: str) -> IstioStats:
        """The Istio series one workload's sidecar has recorded (what its /stats/prometheus serves)."""
        return self.workload(workload).sidecar.stats

    def describe(self) -> dict[str, Any]:
        return {
            "namespace": self.config.namespace,
            "entry_url": self.entry_url,
            "control_url": self.control_url,
            "metrics_path": self.metrics_path,
            "scrape_targets": self.scrape_targets,
            "workloads": {name: w.endpoint.address for name, w in self._workloads.items()},
        }

    def faults(self) -> dict[str, Fault]:
        return {spec.workload: self._faults.get(spec.workload, Fault()) for spec in BOOKINFO}

    def set_fault(self, workload: str, fault: Fault | None) -> None:
        """Set (None: clear) the fault of a workload, or of every version when given an app name.
        Going down or up completes asynchronously: `await settle()` to wait for it."""
        new = fault or Fault()
        for name in self._resolve(workload):
            self._faults[name] = new
            running = self._workloads.get(name)
            if running is None:
                continue
            old, running.fault = running.fault, new
            if new.down != old.down:
                task = asyncio.get_running_loop().create_task(running.apply_fault())
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait until every requested down/up transition has taken effect."""
        while self._pending:
            await asyncio.gather(*self._pending)

    def set_rps(self, rps: float) -> None:
        self.config.rps = validate_rps(rps)
        if self._load is not None:
            self._load.set_rps(rps)

    def weights(self, service: str) -> dict[str, float]:
        return self._routes.weights(service)

    def set_weights(self, service: str, weights: dict[str, float]) -> None:
        self._routes.set_weights(service, weights)
        if service == "reviews":
            self.config.reviews_weights = self._routes.weights(service)

    def load_stats(self) -> LoadStats:
        """Load generator counters; after stop(), the final ones."""
        if self._load is not None:
            return self._load.stats()
        if self._final_stats is not None:
            return self._final_stats
        raise RuntimeError("the demo mesh is not started")

    def _resolve(self, name: str) -> list[str]:
        matches = [s.workload for s in BOOKINFO if name in (s.workload, s.app)]
        if not matches:
            known = ", ".join(s.workload for s in BOOKINFO)
            raise NotFound(f"unknown workload {name!r}; known: {known}", field="workload")
        return matches

    def _workload_of_app(self, app: str) -> Workload:
        for workload in self._workloads.values():
            if workload.identity.app == app:
                return workload
        raise RuntimeError("the demo mesh is not started")

    def _rng(self, *parts: str) -> random.Random:
        # Seeded per workload and purpose, so one knob's draws never shift another's.
        if self.config.seed is None:
            return random.Random()
        return random.Random("/".join((str(self.config.seed), *parts)))

    def _build(self, name: str) -> Workload:
        spec = next(s for s in BOOKINFO if s.workload == name)
        identity = identity_for(spec, self.config.namespace)
        tracer = None
        if self._exporters is not None:
            tracer = WorkloadTracer(identity, self._exporters(identity), self.config.sampling_ratio)
        sidecar = Sidecar(
            identity,
            self._routes,
            rng=self._rng(name, "route"),
            tracer=tracer,
            route_timeout_s=self.config.route_timeout_s,
            policy=RulesTrafficPolicy(self._rules) if self._rules is not None else None,
        )
        work_ms = SERVICE_TIME_MS.get(spec.app, 0.0) * self.config.service_time_scale
        index = next(i for i, s in enumerate(BOOKINFO) if s.workload == name)
        port = self.config.port_base + index if self.config.port_base else 0
        return Workload(sidecar, self.config.host, self._rng(name, "fault"), self._faults.get(name), work_ms, port)

    async def _start_control(self) -> None:
        self._control = web.AppRunner(build_control_app(self), access_log=None, shutdown_timeout=SHUTDOWN_S)
        await self._control.setup()
        sock = bind_socket(self.config.host, self.config.control_port)
        self._control_port = sock.getsockname()[1]
        await web.SockSite(self._control, sock).start()
