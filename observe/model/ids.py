"""Node identity: which Istio labels make a node for each graph type, and the node id string."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from observe.errors import BadQuery

UNKNOWN = "unknown"

# Kubernetes namespace names are RFC 1123 DNS labels.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class GraphType(StrEnum):
    SERVICE = "service"
    APP = "app"
    VERSIONED_APP = "versioned-app"
    WORKLOAD = "workload"

    @classmethod
    def parse(cls, raw: str) -> GraphType:
        try:
            return cls(raw)
        except ValueError:
            allowed = ", ".join(t.value for t in cls)
            raise BadQuery(f"invalid graph type '{raw}': expected one of {allowed}", field="graph") from None


class NodeKind(StrEnum):
    APP = "app"
    SERVICE = "service"
    WORKLOAD = "workload"
    UNKNOWN = "unknown"


def validate_namespace(name: str, field: str = "namespace") -> str:
    if not _DNS_LABEL.match(name):
        raise BadQuery(f"invalid namespace '{name}': expected a DNS label like 'bookinfo'", field=field)
    return name


def parse_namespaces(raw: str | None) -> frozenset[str]:
    """Comma-separated namespaces; empty means every namespace."""
    if not raw:
        return frozenset()
    return frozenset(validate_namespace(part.strip()) for part in raw.split(",") if part.strip())


@dataclass(frozen=True, slots=True, eq=False)
class NodeKey:
    """A node of the graph. Fields a graph type does not use are empty strings.

    Identity is the id: for app nodes the workload is description, not identity (two workloads of one
    app+version are one versioned-app node), so equality and hashing go by (kind, id).
    """

    kind: NodeKind
    namespace: str
    app: str = ""
    version: str = ""
    workload: str = ""
    service: str = ""
    id: str = field(init=False)  # computed once: keys are hashed and compared on every sample

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self._make_id())

    def _make_id(self) -> str:
        if self.kind is NodeKind.UNKNOWN:
            return UNKNOWN
        if self.kind is NodeKind.SERVICE:
            return f"{self.namespace}/svc/{self.service}"
        if self.kind is NodeKind.WORKLOAD:
            return f"{self.namespace}/wl/{self.workload}"
        if self.version:
            return f"{self.namespace}/{self.app}/{self.version}"
        return f"{self.namespace}/{self.app}"

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, NodeKey) and self.id == other.id and self.kind is other.kind)

    def __hash__(self) -> int:
        return hash(self.id)


_MAX_PART = 253


def _part(value: str, raw: str) -> str:
    if not value or len(value) > _MAX_PART or any(ord(c) < 0x20 for c in value):
        raise BadQuery(f"invalid node id '{raw}'", field="node")
    return value


def parse_node_id(raw: str, field: str = "node") -> NodeKey:
    """The NodeKey of a wire node id: `unknown`, `ns/app`, `ns/app/version`, `ns/wl/workload`, `ns/svc/name`."""
    if raw == UNKNOWN:
        return NodeKey(NodeKind.UNKNOWN, UNKNOWN)
    parts = raw.split("/")
    try:
        if len(parts) not in (2, 3):
            raise BadQuery(f"invalid node id '{raw}': expected namespace/app[/version]", field=field)
        namespace = parts[0] if parts[0] == UNKNOWN else validate_namespace(parts[0], field)
        names = [_part(p, raw) for p in parts[1:]]
    except BadQuery as exc:
        raise BadQuery(exc.message, field=field) from None
    if len(names) == 2 and names[0] == "svc":
        return NodeKey(NodeKind.SERVICE, namespace, service=names[1])
    if len(names) == 2 and names[0] == "wl":
        return NodeKey(NodeKind.WORKLOAD, namespace, workload=names[1])
    return NodeKey(NodeKind.APP, namespace, app=names[0], version=names[1] if len(names) == 2 else "")
