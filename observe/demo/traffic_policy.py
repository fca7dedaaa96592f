"""`RulesTrafficPolicy`: the demo's client sidecars obey the DestinationRules of a rules directory, as Envoy
enforces them on the caller's side.

Rules: the directory (DestinationRules, and VirtualServices for routing.py) is re-read when its files change —
checked at most once a second (`RulesCache`, mtime/size of every file, clock passed in), so an edit takes effect
within about a second.
Per caller sidecar and per outbound cluster (service + subset, one Envoy cluster each; a subset's sections
override the host-level ones, as Istio merges them):
- connection pool: `maxConnections` requests may be active (HTTP/1.1: one request per connection), and
  `http1MaxPendingRequests` more may wait; `http2MaxRequests` caps the active requests too. A request beyond
  both fails fast with 503 and response flag UO, and never reaches the destination, so only the source side
  reports it (destination workload "unknown"), as Istio does. The demo does not block waiting requests: a
  pending request is admitted at once (loopback connections are cheap), only the count matters.
- outlier detection: `consecutive5xxErrors` (or `consecutiveGatewayErrors`: 502/503/504) consecutive failures
  of an endpoint eject it for baseEjectionTime × its ejection count; at most maxEjectionPercent of the
  cluster's endpoints are ejected, but at least one may be (Envoy's rule). When every endpoint is ejected, the
  call fails with 503 UH. Ejections end when their time is up (checked at each call, clock passed in).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observe.actions.destination_rules import traffic_policy_for
from observe.actions.durations import parse_go_duration
from observe.actions.files import RulesDirectory
from observe.demo.routing import Cluster, Endpoint
from observe.demo.sidecar import Outcome

POLL_S = 1.0
UNLIMITED = 2**32 - 1
GATEWAY_ERRORS = (502, 503, 504)


class RulesCache:
    """DestinationRules of a directory by (namespace, host short name), reloaded when a file changes."""

    def __init__(self, root: str | Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = RulesDirectory(root)
        self.clock = clock
        self._checked = float("-inf")
        self._stamp: tuple[tuple[str, int, int], ...] = ()
        self._rules: dict[tuple[str, str], dict[str, Any]] = {}
        self._virtual_services: dict[tuple[str, str], dict[str, Any]] = {}

    def rule(self, namespace: str, service: str) -> dict[str, Any] | None:
        now = self.clock()
        if now - self._checked >= POLL_S:
            self._checked = now
            stamp = self._scan()
            if stamp != self._stamp:
                self._stamp = stamp
                self._rules = self._load()
                self._virtual_services = self._load("VirtualService")
        return self._rules.get((namespace, service))

    def virtual_service(self, namespace: str, service: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The service's VirtualService and DestinationRule (routing.VirtualServices), same reload period."""
        rule = self.rule(namespace, service)
        return self._virtual_services.get((namespace, service)), rule

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in sorted(self.directory.root.glob("*/*/*.yaml")):
            try:
                st = os.stat(path)
            except OSError:
                continue
            found.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(found)

    def _load(self, kind: str = "DestinationRule") -> dict[tuple[str, str], dict[str, Any]]:
        rules = {}
        for obj in self.directory.list_objects():
            if obj.get("kind") != kind:
                continue
            namespace = (obj.get("metadata") or {}).get("namespace", "")
            spec = obj.get("spec") or {}
            hosts = (spec.get("hosts") or []) if kind == "VirtualService" else [spec.get("host", "")]
            for host in hosts:
                short = str(host).removesuffix(".svc.cluster.local").split(".")[0]
                rules[(namespace, short)] = obj
        return rules


@dataclass
class _HostState:
    consecutive_5xx: int = 0
    consecutive_gateway: int = 0
    ejections: int = 0
    ejected_until: float | None = None


@dataclass
class _ClusterState:
    active: int = 0
    hosts: dict[str, _HostState] = field(default_factory=dict)


class RulesTrafficPolicy:
    """One caller sidecar's traffic policy (its own counters, as each Envoy has), rules shared via the cache."""

    def __init__(self, rules: RulesCache, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules
        self.clock = clock
        self._clusters: dict[str, _ClusterState] = {}

    def policy(self, cluster: Cluster) -> dict[str, Any]:
        rule = self.rules.rule(cluster.service.namespace, cluster.service.name)
        return traffic_policy_for(rule, cluster.subset) if rule is not None else {}

    @asynccontextmanager
    async def admit(self, cluster: Cluster) -> AsyncIterator[str | None]:
        state = self._clusters.setdefault(cluster.name, _ClusterState())
        if state.active >= self._capacity(self.policy(cluster)):
            yield "UO"
            return
        state.active += 1
        try:
            yield None
        finally:
            state.active -= 1

    def choose(self, cluster: Cluster, endpoints: Sequence[Endpoint]) -> Endpoint | None:
        state = self._clusters.setdefault(cluster.name, _ClusterState())
        now = self.clock()
        for endpoint in endpoints:
            host = state.hosts.get(endpoint.address)
            if host is None or host.ejected_until is None:
                return endpoint
            if now >= host.ejected_until:
                host.ejected_until = None  # back in the pool, its ejection count kept for the next multiplier
                return endpoint
        return None

    def report(self, cluster: Cluster, endpoint: Endpoint, outcome: Outcome) -> None:
        outlier = self.policy(cluster).get("outlierDetection")
        if not isinstance(outlier, dict):
            return
        state = self._clusters.setdefault(cluster.name, _ClusterState())
        host = state.hosts.setdefault(endpoint.address, _HostState())
        failed = outcome.status >= 500
        host.consecutive_5xx = host.consecutive_5xx + 1 if failed else 0
        host.consecutive_gateway = host.consecutive_gateway + 1 if outcome.status in GATEWAY_ERRORS else 0
        limit_5xx = _int(outlier.get("consecutive5xxErrors"), 5)
        limit_gw = _int(outlier.get("consecutiveGatewayErrors"), 0)  # 0: off (Istio's default)
        tripped = (limit_5xx > 0 and host.consecutive_5xx >= limit_5xx) or (
            limit_gw > 0 and host.consecutive_gateway >= limit_gw)  # fmt: skip
        if tripped and host.ejected_until is None and self._may_eject(state, outlier):
            host.ejections += 1
            base = parse_go_duration(str(outlier.get("baseEjectionTime", "30s"))) or 30.0
            host.ejected_until = self.clock() + base * host.ejections
            host.consecutive_5xx = host.consecutive_gateway = 0

    def _may_eject(self, state: _ClusterState, outlier: dict[str, Any]) -> bool:
        now = self.clock()
        total = max(len(state.hosts), 1)
        ejected = sum(1 for h in state.hosts.values() if h.ejected_until is not None and h.ejected_until > now)
        percent = _int(outlier.get("maxEjectionPercent"), 10)
        return ejected == 0 or (ejected + 1) * 100 <= percent * total  # at least one host, Envoy's rule

    @staticmethod
    def _capacity(policy: dict[str, Any]) -> int:
        pool = policy.get("connectionPool") or {}
        tcp, http = pool.get("tcp") or {}, pool.get("http") or {}
        connections = _int(tcp.get("maxConnections"), UNLIMITED)
        pending = _int(http.get("http1MaxPendingRequests"), UNLIMITED)
        active = min(connections, _int(http.get("http2MaxRequests"), UNLIMITED))
        return active + pending


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
