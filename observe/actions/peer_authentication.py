"""Pure: each namespace's effective mTLS mode from PeerAuthentication objects, by Istio's precedence rules.

For a workload Istio applies the first of: a policy of its namespace whose workload selector matches it, the
namespace-wide policy of its namespace (no selector), the mesh-wide policy (no selector, in the root namespace,
istio-system). Among several policies of one level the oldest wins (creationTimestamp, then name). A mode of
UNSET (or no `mtls` at all) inherits from the next level; an UNSET mesh-wide policy, or none, means PERMISSIVE.

This resolves the namespace level only — what a workload without a selector policy gets — and says where the mode
came from: "namespace", "mesh" or "default". Selector policies and port-level modes (`portLevelMtls`) are
listed as exceptions rather than resolved per workload (that would need every workload's labels), as are
namespace-wide policies ignored because an older one wins. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from observe.actions.resources import Obj

ROOT_NAMESPACE = "istio-system"
MODES = ("STRICT", "PERMISSIVE", "DISABLE")
UNSET = "UNSET"
DEFAULT_MODE = "PERMISSIVE"


@dataclass(frozen=True)
class PolicyException:
    """A policy the namespace mode does not cover: `reason` is "selector", "port_level" or "ignored"."""

    policy: str  # namespace/name
    reason: str
    mode: str  # the policy's own mode, UNSET when it inherits
    selector: dict[str, str] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"policy": self.policy, "reason": self.reason, "mode": self.mode, "selector": self.selector,
                "ports": self.ports}  # fmt: skip


@dataclass(frozen=True)
class NamespaceSecurity:
    namespace: str
    mode: str  # STRICT, PERMISSIVE or DISABLE: never UNSET, which is resolved
    source: str  # "namespace", "mesh" or "default"
    policy: str | None  # namespace/name of the policy that set the mode
    exceptions: tuple[PolicyException, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "mode": self.mode, "source": self.source, "policy": self.policy,
                "exceptions": [e.to_wire() for e in self.exceptions]}  # fmt: skip


def mode_of(spec: Any) -> str:
    """A `{mode: ...}` holder's mode; anything absent or unknown is UNSET (the API server's schema refuses the
    unknown ones, a rules directory might not)."""
    mode = spec.get("mode") if isinstance(spec, dict) else None
    return mode if mode in MODES else UNSET


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _spec(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _name(obj: Obj) -> str:
    return f"{_meta(obj).get('namespace', '')}/{_meta(obj).get('name', '')}"


def _selector(obj: Obj) -> dict[str, str]:
    selector = _spec(obj).get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _ports(obj: Obj) -> dict[str, str]:
    ports = _spec(obj).get("portLevelMtls")
    return {str(port): mode_of(mtls) for port, mtls in ports.items()} if isinstance(ports, dict) else {}


def _oldest_first(policies: Iterable[Obj]) -> list[Obj]:
    # Istio's order; objects from a rules directory carry no timestamp and fall back to the name.
    return sorted(policies, key=lambda o: (str(_meta(o).get("creationTimestamp") or ""), _name(o)))


def _level(policies: list[Obj]) -> tuple[Obj | None, list[PolicyException]]:
    """The namespace-wide policy that wins among `policies` (one namespace's) and the exceptions of that namespace."""
    wide = [p for p in policies if not _selector(p)]
    winner = wide[0] if wide else None
    exceptions = [PolicyException(_name(p), "ignored", mode_of(_spec(p).get("mtls"))) for p in wide[1:]]
    if winner is not None and _ports(winner):
        exceptions.append(PolicyException(_name(winner), "port_level", mode_of(_spec(winner).get("mtls")),
                                          ports=_ports(winner)))  # fmt: skip
    exceptions += [PolicyException(_name(p), "selector", mode_of(_spec(p).get("mtls")), _selector(p), _ports(p))
                   for p in policies if _selector(p)]  # fmt: skip
    return winner, exceptions


def resolve(policies: Iterable[Obj], namespaces: Iterable[str], *,
            root: str = ROOT_NAMESPACE) -> list[NamespaceSecurity]:  # fmt: skip
    """The effective mode of each of `namespaces` (sorted) given every PeerAuthentication of those namespaces and
    of `root`."""
    by_namespace: dict[str, list[Obj]] = {}
    for policy in _oldest_first(policies):
        by_namespace.setdefault(str(_meta(policy).get("namespace", "")), []).append(policy)
    mesh, _ = _level(by_namespace.get(root, []))
    mesh_mode = mode_of(_spec(mesh).get("mtls")) if mesh is not None else UNSET
    out = []
    for namespace in sorted(set(namespaces)):
        winner, exceptions = _level(by_namespace.get(namespace, []))
        own = mode_of(_spec(winner).get("mtls")) if winner is not None else UNSET
        if winner is not None and own != UNSET:
            mode, source, name = own, "mesh" if namespace == root else "namespace", _name(winner)
        elif mesh is not None and mesh_mode != UNSET:
            mode, source, name = mesh_mode, "mesh", _name(mesh)
        else:
            mode, source, name = DEFAULT_MODE, "default", None
        out.append(NamespaceSecurity(namespace, mode, source, name, tuple(exceptions)))
    return out
