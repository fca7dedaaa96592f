"""Service discovery and routing for the demo mesh: which endpoint serves each (service, subset), and the
per-service subset weights (reviews v1/v2/v3) used when no VirtualService says otherwise. Shared by every
sidecar, as istiod's configuration is shared by every proxy; the caller's sidecar picks the subset, as Envoy
does. With a `VirtualServices` lookup (the rules directory), a service's VirtualService decides each request
by its path and headers (virtual_services.py): version, mirror, or a failure flag; a destination without
subset falls back to the weights here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from observe.demo.identity import ServiceRef, WorkloadIdentity
from observe.demo.virtual_services import decide
from observe.errors import BadQuery, NotFound


@dataclass(frozen=True)
class Endpoint:
    """One pod of a subset: its identity and where it listens on loopback."""

    identity: WorkloadIdentity
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


@dataclass(frozen=True)
class Cluster:
    """An Envoy outbound cluster: a service and one subset (version) of it."""

    service: ServiceRef
    subset: str

    @property
    def name(self) -> str:
        return self.service.cluster_name(self.subset)


@dataclass(frozen=True)
class Pick:
    """The routing decision for one request: its cluster, the cluster receiving a mirrored copy (if any), or
    the Envoy response flag it fails with at the caller (NR: no route, NC: unknown subset)."""

    cluster: Cluster
    mirror: Cluster | None = None
    flag: str | None = None


# (namespace, service) → (VirtualService, DestinationRule), each None when absent
VirtualServices = Callable[[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]]


def validate_weights(versions: list[str], weights: Mapping[str, float]) -> dict[str, float]:
    """Weights for known versions; versions not listed get 0 (as routes a VirtualService leaves out)."""
    unknown = sorted(set(weights) - set(versions))
    if unknown:
        raise BadQuery(f"unknown version(s) {', '.join(unknown)}; known: {', '.join(versions)}", field="weights")
    clean: dict[str, float] = {}
    for version in versions:
        value = weights.get(version, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise BadQuery(f"weight of {version} must be a finite number >= 0, got {value!r}", field=version)
        clean[version] = float(value)
    if sum(clean.values()) <= 0:
        raise BadQuery("at least one weight must be positive", field="weights")
    return clean


class Routes:
    """Endpoints by service and subset, plus subset weights per service."""

    def __init__(self, namespace: str, virtual_services: VirtualServices | None = None) -> None:
        self.namespace = namespace
        self.virtual_services = virtual_services
        self._endpoints: dict[str, dict[str, Endpoint]] = {}
        self._weights: dict[str, dict[str, float]] = {}

    def add(self, endpoint: Endpoint) -> None:
        self._endpoints.setdefault(endpoint.identity.app, {})[endpoint.identity.version] = endpoint

    def services(self) -> list[str]:
        return list(self._endpoints)

    def versions(self, service: str) -> list[str]:
        if service not in self._endpoints:
            raise NotFound(f"unknown service {service!r}", field="service")
        return sorted(self._endpoints[service])

    def set_weights(self, service: str, weights: Mapping[str, float]) -> None:
        self._weights[service] = validate_weights(self.versions(service), weights)

    def weights(self, service: str) -> dict[str, float]:
        versions = self.versions(service)
        return dict(self._weights.get(service, dict.fromkeys(versions, 1.0)))

    def pick(self, service: str, rng: random.Random) -> Cluster:
        """The subset a request to `service` goes to, drawn by the weights here."""
        weights = self.weights(service)
        versions = [v for v, w in weights.items() if w > 0]
        chosen = rng.choices(versions, weights=[weights[v] for v in versions])[0]
        return Cluster(ServiceRef(service, self.namespace), chosen)

    def route(self, service: str, rng: random.Random, path: str, headers: Mapping[str, str]) -> Pick:
        """Where one request goes, its VirtualService (if any) applied to its path and headers."""
        vs, rule = self.virtual_services(self.namespace, service) if self.virtual_services else (None, None)
        if vs is None:
            return Pick(self.pick(service, rng))
        decision = decide(vs, rule, path, headers, rng)
        ref = ServiceRef(service, self.namespace)
        if decision.flag is not None:
            return Pick(Cluster(ref, decision.version or ""), flag=decision.flag)
        cluster = Cluster(ref, decision.version) if decision.version else self.pick(service, rng)
        return Pick(cluster, Cluster(ref, decision.mirror) if decision.mirror else None)

    def endpoints(self, cluster: Cluster) -> list[Endpoint]:
        endpoint = self._endpoints.get(cluster.service.name, {}).get(cluster.subset)
        return [endpoint] if endpoint is not None else []
