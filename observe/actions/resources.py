"""Pure: the resource kinds observe edits (and those it only reads), object references, and the metadata rules
every object follows.

An object is a plain JSON-like dict exactly as the Kubernetes API carries it (apiVersion, kind, metadata,
spec); `ObjectRef` names one. Nothing here does I/O.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from observe.errors import InvalidEdit

Obj = dict[str, Any]

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Fields the API server owns: never part of a diff, never written back on revert.
SERVER_FIELDS = ("uid", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp")


@dataclass(frozen=True)
class ResourceKind:
    group: str
    version: str
    kind: str
    plural: str
    crd_name: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


DESTINATION_RULE = ResourceKind("networking.istio.io", "v1", "DestinationRule", "destinationrules",
                                "destinationrules.networking.istio.io")  # fmt: skip
VIRTUAL_SERVICE = ResourceKind("networking.istio.io", "v1", "VirtualService", "virtualservices",
                               "virtualservices.networking.istio.io")  # fmt: skip
KINDS = {k.kind: k for k in (DESTINATION_RULE, VIRTUAL_SERVICE)}
# Read (Applier.list), never edited: kept out of KINDS, which is what ObjectRef.of/parse accept and so what
# appliers may write, audit entries may revert and the demo's rules reader loads.
PEER_AUTHENTICATION = ResourceKind("security.istio.io", "v1", "PeerAuthentication", "peerauthentications",
                                   "peerauthentications.security.istio.io")  # fmt: skip


@dataclass(frozen=True)
class ObjectRef:
    kind: ResourceKind
    namespace: str
    name: str

    def __post_init__(self) -> None:
        check_namespace(self.namespace)
        check_name(self.name)

    def __str__(self) -> str:
        return f"{self.kind.kind}/{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ObjectRef:
        """`DestinationRule/bookinfo/reviews`, the form audit entries store."""
        parts = text.split("/")
        if len(parts) != 3 or parts[0] not in KINDS:
            raise InvalidEdit(f"invalid target {text!r}: expected Kind/namespace/name", field="target")
        return cls(KINDS[parts[0]], parts[1], parts[2])

    @classmethod
    def of(cls, obj: Obj) -> ObjectRef:
        kind = KINDS.get(str(obj.get("kind")))
        if kind is None:
            raise InvalidEdit(f"unsupported kind {obj.get('kind')!r}", field="kind")
        meta = obj.get("metadata") or {}
        return cls(kind, str(meta.get("namespace", "")), str(meta.get("name", "")))


def check_namespace(namespace: str) -> str:
    if not DNS_LABEL.fullmatch(namespace):
        raise InvalidEdit(f"metadata.namespace: invalid value {namespace!r}: must be a DNS label "
                          "(lower-case letters, digits and '-', at most 63)", field="metadata.namespace")  # fmt: skip
    return namespace


def check_name(name: str) -> str:
    if not DNS_SUBDOMAIN.fullmatch(name):
        raise InvalidEdit(f"metadata.name: invalid value {name!r}: must be a DNS subdomain "
                          "(lower-case letters, digits, '-' and '.')", field="metadata.name")  # fmt: skip
    return name


def resource_version(obj: Obj | None) -> str | None:
    if obj is None:
        return None
    value = (obj.get("metadata") or {}).get("resourceVersion")
    return str(value) if value is not None else None


def skeleton(ref: ObjectRef, spec: Obj) -> Obj:
    """A new object of `ref`'s kind, for an edit of something that does not exist yet."""
    return {"apiVersion": ref.kind.api_version, "kind": ref.kind.kind,
            "metadata": {"name": ref.name, "namespace": ref.namespace}, "spec": copy.deepcopy(spec)}  # fmt: skip


def without_server_fields(obj: Obj, *, keep_version: bool = True) -> Obj:
    """A deep copy without what the API server owns (and without status: observe never writes it)."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for name in SERVER_FIELDS:
            meta.pop(name, None)
        if not keep_version:
            meta.pop("resourceVersion", None)
    return out
