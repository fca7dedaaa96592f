"""Spans as the model sees them, and the one set of rules that reads identity out of span attributes.

Both decoders (OTLP protobuf/JSON and Jaeger JSON) flatten attributes to strings and call `build_span`, so a
span means the same thing whichever way it arrived. Rules, first match wins:

- service / namespace / version: the Istio proxy tags `istio.canonical_service`, `istio.namespace`,
  `istio.canonical_revision`; else the resource (`service.name`, `service.namespace` or `k8s.namespace.name`,
  `service.version`). Istio names a proxy's resource `<app>.<namespace>`: on proxy spans (they carry `node_id`,
  `upstream_cluster` or `component=proxy`) with no namespace elsewhere, that name is split at its last dot.
  A missing version is "unknown".
- workload: `k8s.deployment.name` (or statefulset/daemonset/job) on the resource; else the pod in Envoy's
  `node_id` (`sidecar~10.0.0.1~reviews-v2-6f76498fc8-58wpn.bookinfo~bookinfo.svc.cluster.local`) or
  `k8s.pod.name`, with the ReplicaSet hash and pod suffix removed (`reviews-v2`); else "unknown".
- peer (CLIENT and PRODUCER spans only): Envoy's `upstream_cluster` `outbound|9080|v2|reviews.default.svc.
  cluster.local` → service reviews, namespace default, subset v2; for Passthrough/BlackHole clusters and
  OTel SDK spans: `peer.service`, `server.address`, `net.peer.name`, then the host of `http.url`/`url.full`.
  A bare host name (`reviews`) resolves in the caller's namespace, as Kubernetes DNS does.
- HTTP status: `http.status_code` or `http.response.status_code` (Envoy writes strings; `0` = no response).
- error: OTLP status ERROR, tag `error` = true (string or bool), `otel.status_code` = ERROR, a 5xx, or 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from observe.model.ids import UNKNOWN
from observe.model.nodes import split_service

NO_FLAGS = "-"
_HEX = frozenset("0123456789abcdef")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
# Kubernetes' random-suffix alphabet (no vowels, no 0/1/3): ReplicaSet pod-template-hash and pod suffix.
_POD_HASH = re.compile(r"^(?P<base>.+?)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$")
_POD_SUFFIX = re.compile(r"^(?P<base>.+?)-(?:[bcdfghjklmnpqrstvwxz2456789]{5}|\d+)$")
_PASSTHROUGH = frozenset({"PassthroughCluster", "BlackHoleCluster", "InboundPassthroughCluster",
                          "InboundPassthroughClusterIpv4", "InboundPassthroughClusterIpv6"})  # fmt: skip
_WORKLOAD_KEYS = ("k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.job.name")
_PEER_KEYS = ("peer.service", "server.address", "net.peer.name")
_PROXY_KEYS = ("node_id", "upstream_cluster")
# Every span attribute `build_span` reads: decoders that drop tags may skip converting the others.
EXTRACTED_KEYS = frozenset({
    "istio.canonical_service", "istio.namespace", "istio.canonical_revision", "node_id", "upstream_cluster",
    "upstream_cluster.name", "component", "http.status_code", "http.response.status_code", "error",
    "otel.status_code", "response_flags", "http.url", "url.full", *_PEER_KEYS,
})  # fmt: skip


class SpanKind(Enum):
    """OTLP span kinds; the values are the OTLP enum numbers."""

    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5

    @classmethod
    def from_number(cls, number: int) -> SpanKind:
        return _KIND_BY_NUMBER.get(number, cls.UNSPECIFIED)

    @classmethod
    def from_name(cls, name: str) -> SpanKind:
        """`SPAN_KIND_CLIENT` (proto JSON), `client` (Jaeger's span.kind tag) or `CLIENT`."""
        return cls.__members__.get(name.upper().removeprefix("SPAN_KIND_"), cls.UNSPECIFIED)


_KIND_BY_NUMBER = {kind.value: kind for kind in SpanKind}


@dataclass(frozen=True, slots=True)
class Peer:
    """Who a CLIENT span called. `namespace` is empty for hosts outside the cluster; `subset` is the
    DestinationRule subset from Envoy's cluster name (the callee's version on canary routes), or empty."""

    service: str
    namespace: str = ""
    subset: str = ""
    host: str = ""


@dataclass(frozen=True, slots=True)
class Resource:
    """What a span's resource (OTLP) or process (Jaeger) says about the emitter; read once per batch."""

    service_name: str
    namespace: str
    version: str
    workload: str

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, str]) -> Resource:
        namespace = attrs.get("service.namespace") or attrs.get("k8s.namespace.name") or ""
        workload = next((attrs[k] for k in _WORKLOAD_KEYS if attrs.get(k)), "")
        if not workload and attrs.get("k8s.pod.name"):
            workload = workload_from_pod(attrs["k8s.pod.name"])
        name = attrs.get("service.name") or UNKNOWN
        if namespace and name.endswith("." + namespace):
            name = name[: -len(namespace) - 1]
        return cls(name, namespace, attrs.get("service.version") or "", workload)


# A NamedTuple, like the metric samples (model.samples): one per span on the ingest path, where a frozen
# dataclass's __init__ (one object.__setattr__ per field) cost ~4 µs of a ~20 µs span budget at 50,000 spans/s.
class SpanRecord(NamedTuple):
    """One span. Ids are lowercase hex (trace 32 chars, span 16); times in unix seconds / milliseconds."""

    trace_id: str
    span_id: str
    parent_id: str | None
    kind: SpanKind
    service: str  # app / canonical service
    version: str
    namespace: str
    workload: str
    peer: Peer | None
    operation: str
    start_s: float
    duration_ms: float
    status_code: int | None  # HTTP status; 0 = no response
    error: bool
    response_flags: str = NO_FLAGS
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_ms / 1000.0


def normalize_trace_id(raw: str) -> str | None:
    """Lowercase 32-hex trace id; a 64-bit (16-hex) id is left-padded as Jaeger does. None if invalid."""
    value = raw.lower()
    if len(value) == 16:
        value = "0" * 16 + value
    if len(value) != 32 or not _HEX.issuperset(value) or value == _ZERO_TRACE:
        return None
    return value


def normalize_span_id(raw: str) -> str | None:
    value = raw.lower()
    if len(value) != 16 or not _HEX.issuperset(value) or value == _ZERO_SPAN:
        return None
    return value


def attribute_text(value: object) -> str:
    """How any attribute value is flattened: booleans `true`/`false`, arrays and maps as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def build_span(
    ids: tuple[str, str, str | None],
    kind: SpanKind,
    operation: str,
    times: tuple[float, float],
    resource: Resource,
    attrs: Mapping[str, str],
    *,
    status_error: bool = False,
    tags: tuple[tuple[str, str], ...] = (),
) -> SpanRecord:
    """`ids` = (trace, span, parent) already normalized; `times` = (start unix s, duration ms); `tags` is
    what the record keeps of the attributes (the decoder's choice: all of them, or none)."""
    service, namespace, version, workload = _identity(resource, attrs)
    status_code = _status_code(attrs)
    peer = peer_of(attrs, namespace) if kind in (SpanKind.CLIENT, SpanKind.PRODUCER) else None
    return SpanRecord(
        trace_id=ids[0],
        span_id=ids[1],
        parent_id=ids[2],
        kind=kind,
        service=service,
        version=version,
        namespace=namespace,
        workload=workload,
        peer=peer,
        operation=operation,
        start_s=times[0],
        duration_ms=times[1],
        status_code=status_code,
        error=status_error or _is_error(attrs, status_code),
        response_flags=attrs.get("response_flags") or NO_FLAGS,
        tags=tags,
    )


def _identity(resource: Resource, attrs: Mapping[str, str]) -> tuple[str, str, str, str]:
    service = attrs.get("istio.canonical_service") or ""
    namespace = attrs.get("istio.namespace") or resource.namespace
    version = attrs.get("istio.canonical_revision") or resource.version or UNKNOWN
    workload, pod_namespace = resource.workload, ""
    node_id = attrs.get("node_id")
    if node_id:
        pod_workload, pod_namespace = parse_node_id(node_id)
        workload = workload or pod_workload
    if not service:
        service = resource.service_name
        is_proxy = any(k in attrs for k in _PROXY_KEYS) or attrs.get("component") == "proxy"
        if is_proxy and not namespace and "." in service:
            service, _, namespace = service.rpartition(".")
    return service, namespace or pod_namespace or UNKNOWN, version, workload or UNKNOWN


def _status_code(attrs: Mapping[str, str]) -> int | None:
    raw = attrs.get("http.status_code") or attrs.get("http.response.status_code")
    return int(raw) if raw and raw.isdecimal() else None


def _is_error(attrs: Mapping[str, str], status_code: int | None) -> bool:
    if status_code is not None and (status_code >= 500 or status_code == 0):
        return True
    flag = attrs.get("error")
    return (flag is not None and flag.lower() == "true") or attrs.get("otel.status_code") == "ERROR"


@lru_cache(maxsize=4096)
def parse_node_id(node_id: str) -> tuple[str, str]:
    """(workload, namespace) from `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`; empty when unparsable."""
    parts = node_id.split("~")
    if len(parts) != 4 or "." not in parts[2]:
        return "", ""
    pod, _, namespace = parts[2].rpartition(".")
    return workload_from_pod(pod), namespace


@lru_cache(maxsize=4096)
def workload_from_pod(pod: str) -> str:
    """`reviews-v2-6f76498fc8-58wpn` → `reviews-v2` (Deployment); `web-0` → `web`; else the pod name."""
    match = _POD_HASH.match(pod) or _POD_SUFFIX.match(pod)
    return match.group("base") if match else pod


def peer_of(attrs: Mapping[str, str], caller_namespace: str) -> Peer | None:
    cluster = attrs.get("upstream_cluster") or attrs.get("upstream_cluster.name")
    if cluster and cluster not in _PASSTHROUGH:
        peer = parse_upstream_cluster(cluster)
        if peer is not None:
            return peer
    for key in _PEER_KEYS:
        if attrs.get(key):
            return peer_from_host(attrs[key], caller_namespace)
    url = attrs.get("http.url") or attrs.get("url.full")
    if url and "://" in url:
        return peer_from_host(url.split("://", 1)[1].split("/", 1)[0], caller_namespace)
    return Peer(cluster) if cluster else None


@lru_cache(maxsize=4096)
def parse_upstream_cluster(cluster: str) -> Peer | None:
    """`outbound|9080|v2|reviews.default.svc.cluster.local` (also `inbound-vip|…` on waypoints)."""
    parts = cluster.split("|")
    if len(parts) != 4 or not parts[3] or parts[0] == "inbound":
        return None
    namespace, service = split_service(parts[3], "")
    return Peer(service, "" if namespace == UNKNOWN else namespace, parts[2], parts[3])


@lru_cache(maxsize=4096)
def peer_from_host(host: str, caller_namespace: str) -> Peer:
    """`reviews.bookinfo.svc.cluster.local`, `reviews.bookinfo.svc`, `reviews` (caller's ns), `api.x.com`."""
    name = host.rsplit("@", 1)[-1]
    if not name.startswith("["):
        name = name.split(":", 1)[0]
    labels = name.lower().split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        return Peer(labels[0], labels[1], "", host)
    if len(labels) == 1 and labels[0] and not labels[0].isdigit():
        known = caller_namespace if caller_namespace != UNKNOWN else ""
        return Peer(labels[0], known, "", host)
    return Peer(name, "", "", host)
