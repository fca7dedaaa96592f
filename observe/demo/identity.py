"""Who is who in the demo mesh: Bookinfo's workloads, services and call graph, and the peer-metadata
exchange that lets each Envoy-like sidecar learn the identity of the other side of a request.

Istio's metadata-exchange (MX) filter sends the local workload's node metadata in the
`x-envoy-peer-metadata` request header (and the callee answers with its own in the response headers),
plus `x-envoy-peer-metadata-id`. Istio encodes a protobuf Struct; we encode the same keys as base64 JSON,
which carries the same information and is readable when debugging.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

PEER_METADATA_HEADER = "x-envoy-peer-metadata"
PEER_METADATA_ID_HEADER = "x-envoy-peer-metadata-id"
REQUEST_ID_HEADER = "x-request-id"

TRUST_DOMAIN = "cluster.local"
CLUSTER_ID = "Kubernetes"
# Bookinfo's Kubernetes Services all listen on 9080; span names and cluster names use this logical port
# while the loopback processes bind to whatever free port the kernel hands out.
SERVICE_PORT = 9080
UNKNOWN = "unknown"


@dataclass(frozen=True)
class WorkloadIdentity:
    """A workload's node metadata, as the sidecar knows it about itself and as peers receive it."""

    workload: str
    app: str
    version: str
    namespace: str
    service_account: str
    cluster: str = CLUSTER_ID

    @property
    def principal(self) -> str:
        return f"spiffe://{TRUST_DOMAIN}/ns/{self.namespace}/sa/{self.service_account}"

    @property
    def canonical_service(self) -> str:
        return self.app

    @property
    def canonical_revision(self) -> str:
        return self.version

    @property
    def service(self) -> ServiceRef:
        return ServiceRef(self.app, self.namespace)

    @property
    def node_id(self) -> str:
        return f"sidecar~127.0.0.1~{self.workload}.{self.namespace}~{self.namespace}.svc.cluster.local"


@dataclass(frozen=True)
class ServiceRef:
    """A Kubernetes Service (the thing a caller addresses), e.g. reviews in namespace bookinfo."""

    name: str
    namespace: str

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.namespace}.svc.cluster.local"

    def cluster_name(self, subset: str = "") -> str:
        """Envoy's outbound cluster name, `outbound|9080|v2|reviews.bookinfo.svc.cluster.local`."""
        return f"outbound|{SERVICE_PORT}|{subset}|{self.fqdn}"


@dataclass(frozen=True)
class WorkloadSpec:
    """One Bookinfo deployment: its name, app, version and the services it calls."""

    workload: str
    app: str
    version: str
    calls: tuple[str, ...]


BOOKINFO: tuple[WorkloadSpec, ...] = (
    WorkloadSpec("productpage-v1", "productpage", "v1", ("details", "reviews")),
    WorkloadSpec("details-v1", "details", "v1", ()),
    WorkloadSpec("reviews-v1", "reviews", "v1", ()),
    WorkloadSpec("reviews-v2", "reviews", "v2", ("ratings",)),
    WorkloadSpec("reviews-v3", "reviews", "v3", ("ratings",)),
    WorkloadSpec("ratings-v1", "ratings", "v1", ()),
)
ENTRY_APP = "productpage"


def identity_for(spec: WorkloadSpec, namespace: str) -> WorkloadIdentity:
    return WorkloadIdentity(
        workload=spec.workload,
        app=spec.app,
        version=spec.version,
        namespace=namespace,
        service_account=f"bookinfo-{spec.app}",
    )


def bookinfo_edges() -> list[tuple[str, str]]:
    """(source workload, destination workload) for every call in Bookinfo."""
    return [(src.workload, dst.workload) for src in BOOKINFO for app in src.calls for dst in BOOKINFO if dst.app == app]


def namespace_of_principal(principal: str) -> str | None:
    """The namespace in a SPIFFE id `spiffe://<td>/ns/<ns>/sa/<sa>`, as Istio derives the peer namespace."""
    parts = principal.split("/")
    if len(parts) >= 7 and parts[0] == "spiffe:" and parts[3] == "ns" and parts[4]:
        return parts[4]
    return None


def peer_headers(identity: WorkloadIdentity) -> dict[str, str]:
    """The MX headers a sidecar adds to announce itself (on outbound requests and inbound responses)."""
    struct = {
        "NAME": f"{identity.workload}-0",
        "NAMESPACE": identity.namespace,
        "CLUSTER_ID": identity.cluster,
        "WORKLOAD_NAME": identity.workload,
        "SERVICE_ACCOUNT": identity.service_account,
        "LABELS": {
            "app": identity.app,
            "version": identity.version,
            "service.istio.io/canonical-name": identity.canonical_service,
            "service.istio.io/canonical-revision": identity.canonical_revision,
        },
    }
    encoded = base64.b64encode(json.dumps(struct, separators=(",", ":")).encode()).decode()
    return {PEER_METADATA_HEADER: encoded, PEER_METADATA_ID_HEADER: identity.node_id}


def read_peer(headers: Mapping[str, str]) -> WorkloadIdentity | None:
    """The peer identity from MX headers; None when absent or malformed (Istio then reports `unknown`)."""
    raw = headers.get(PEER_METADATA_HEADER)
    if not raw:
        return None
    try:
        struct = json.loads(base64.b64decode(raw, validate=True))
        labels = struct["LABELS"]
        return WorkloadIdentity(
            workload=str(struct["WORKLOAD_NAME"]),
            app=str(labels["app"]),
            version=str(labels["version"]),
            namespace=str(struct["NAMESPACE"]),
            service_account=str(struct["SERVICE_ACCOUNT"]),
            cluster=str(struct.get("CLUSTER_ID", UNKNOWN)),
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None


# Median own work time (ms) of each Bookinfo app, so the demo's percentiles look like a service's and not like
# loopback: reviews v2/v3 render stars, productpage renders the page. Scaled by MeshConfig.service_time_scale.
SERVICE_TIME_MS: dict[str, float] = {"productpage": 6.0, "details": 2.0, "reviews": 9.0, "ratings": 3.0}
