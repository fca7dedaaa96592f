"""Pure: the DestinationRule traffic policy observe edits, its presets, and how an edit changes an object.

Model: `ConnectionPool` (tcp + http) and `OutlierDetection`, frozen dataclasses whose field names are Istio's
(camelCase in the wire form); `to_wire()` drops unset fields so Istio's defaults apply to them.

Merge algorithm (`apply_policy_change`): start from the live object (or a new DestinationRule for `host` when
there is none); pick the trafficPolicy to change — the host-level one, or that of the named subset, which must
already exist (a subset needs labels observe cannot guess); a preset replaces the `connectionPool` and
`outlierDetection` sections whole (so moving between presets leaves no stray limit behind); custom values are
then applied as a JSON merge patch (RFC 7386: null deletes). Everything else — other subsets, their labels,
loadBalancer, tls, portLevelSettings, labels and annotations — is kept as it was.

Presets (Istio defaults for comparison: pool limits 2^32−1, connectTimeout 10s, consecutive5xxErrors 5,
interval 10s, baseEjectionTime 30s, maxEjectionPercent 10):
- conservative — a safety net that should never reject normal traffic: limits of 1000 (far above what one
  caller's proxy needs for a typical service), outlier detection only after 10 consecutive 5xx, checked
  every 30 s, ejecting at most 10 % of hosts for 30 s. Use when you do not know the service's capacity.
- balanced — the usual production setting: 100 connections / 100 pending / 100 active requests per caller
  proxy, 3 outstanding retries, 5 s connect timeout; ejection after 5 consecutive 5xx (Istio's default
  count) checked every 10 s, for 30 s, at most half of the hosts, so capacity never halves at once.
- aggressive — fail fast to protect a fragile or overloaded service: 10 connections / 10 pending, 1
  outstanding retry, 1 s connect timeout; eject after 3 consecutive 5xx or 2 gateway errors, checked every
  5 s, for 1 min, up to every host (callers then get 503 UH at once instead of queueing behind a dead host).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

from observe.actions.merge import merge_patch
from observe.actions.resources import DESTINATION_RULE, Obj, ObjectRef, skeleton
from observe.errors import InvalidEdit

CLUSTER_SUFFIX = ".svc.cluster.local"


def _wire(value: Any) -> Obj:
    return {k: v for k, v in asdict(value).items() if v is not None and v != {}}


@dataclass(frozen=True)
class TcpSettings:
    maxConnections: int | None = None  # Istio's field names: the wire form is asdict()
    connectTimeout: str | None = None
    tcpKeepalive: dict[str, Any] | None = None  # {time, interval, probes}


@dataclass(frozen=True)
class HttpSettings:
    http1MaxPendingRequests: int | None = None
    http2MaxRequests: int | None = None
    maxRequestsPerConnection: int | None = None
    maxRetries: int | None = None
    idleTimeout: str | None = None
    h2UpgradePolicy: str | None = None  # DEFAULT | DO_NOT_UPGRADE | UPGRADE


@dataclass(frozen=True)
class ConnectionPool:
    tcp: TcpSettings = field(default_factory=TcpSettings)
    http: HttpSettings = field(default_factory=HttpSettings)

    def to_wire(self) -> Obj:
        return {k: v for k, v in (("tcp", _wire(self.tcp)), ("http", _wire(self.http))) if v}


@dataclass(frozen=True)
class OutlierDetection:
    consecutive5xxErrors: int | None = None
    consecutiveGatewayErrors: int | None = None
    interval: str | None = None
    baseEjectionTime: str | None = None
    maxEjectionPercent: int | None = None
    minHealthPercent: int | None = None

    def to_wire(self) -> Obj:
        return _wire(self)


@dataclass(frozen=True)
class Preset:
    name: str
    connection_pool: ConnectionPool
    outlier_detection: OutlierDetection

    def to_wire(self) -> Obj:
        return {"connectionPool": self.connection_pool.to_wire(), "outlierDetection": self.outlier_detection.to_wire()}


PRESETS: dict[str, Preset] = {
    "conservative": Preset(
        "conservative",
        ConnectionPool(TcpSettings(maxConnections=1000, connectTimeout="10s"),
                       HttpSettings(http1MaxPendingRequests=1000, http2MaxRequests=1000, maxRetries=10)),
        OutlierDetection(consecutive5xxErrors=10, interval="30s", baseEjectionTime="30s", maxEjectionPercent=10),
    ),
    "balanced": Preset(
        "balanced",
        ConnectionPool(TcpSettings(maxConnections=100, connectTimeout="5s"),
                       HttpSettings(http1MaxPendingRequests=100, http2MaxRequests=100, maxRetries=3)),
        OutlierDetection(consecutive5xxErrors=5, interval="10s", baseEjectionTime="30s", maxEjectionPercent=50),
    ),
    "aggressive": Preset(
        "aggressive",
        ConnectionPool(TcpSettings(maxConnections=10, connectTimeout="1s"),
                       HttpSettings(http1MaxPendingRequests=10, http2MaxRequests=10, maxRetries=1)),
        OutlierDetection(consecutive5xxErrors=3, consecutiveGatewayErrors=2, interval="5s", baseEjectionTime="1m",
                         maxEjectionPercent=100),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class PolicyChange:
    """One circuit-breaker edit: an optional preset, then custom values (a trafficPolicy merge patch)."""

    preset: str | None = None
    values: Obj = field(default_factory=dict)
    subset: str | None = None

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in PRESETS:
            raise InvalidEdit(f"preset: unknown preset {self.preset!r}; known: {', '.join(PRESETS)}", field="preset")
        if not isinstance(self.values, dict):
            raise InvalidEdit("spec: must be a JSON object (a trafficPolicy fragment)", field="spec")
        if self.preset is None and not self.values:
            raise InvalidEdit("nothing to change: give a preset or values", field="preset")


def rule_name(host: str, namespace: str) -> str:
    """The DestinationRule observe manages for `host`: named after the service (`reviews` for `reviews`,
    `reviews.bookinfo` or `reviews.bookinfo.svc.cluster.local` in namespace bookinfo), else the host itself."""
    short = host.removesuffix(CLUSTER_SUFFIX)
    first, _, rest = short.partition(".")
    return first if rest in ("", namespace) else short


def rule_ref(namespace: str, host: str) -> ObjectRef:
    if not host:
        raise InvalidEdit("spec.host: required: the service host the rule applies to", field="spec.host")
    return ObjectRef(DESTINATION_RULE, namespace, rule_name(host, namespace))


def apply_policy_change(live: Obj | None, ref: ObjectRef, host: str, change: PolicyChange) -> Obj:
    """The object after `change` (see the module docstring); `live` is not modified."""
    obj = copy.deepcopy(live) if live is not None else skeleton(ref, {"host": host})
    spec = obj.setdefault("spec", {})
    holder = _policy_holder(spec, change.subset)
    policy = copy.deepcopy(holder.get("trafficPolicy") or {})
    if change.preset is not None:
        policy.update(copy.deepcopy(PRESETS[change.preset].to_wire()))
    policy = merge_patch(policy, change.values)
    if policy:
        holder["trafficPolicy"] = policy
    else:
        holder.pop("trafficPolicy", None)
    return obj


def _policy_holder(spec: Obj, subset: str | None) -> Obj:
    if subset is None:
        return spec
    subsets = spec.get("subsets") or []
    for item in subsets:
        if isinstance(item, dict) and item.get("name") == subset:
            return item
    known = ", ".join(str(s.get("name")) for s in subsets if isinstance(s, dict)) or "none"
    raise InvalidEdit(f"subset: no subset {subset!r} in the DestinationRule (known: {known}); "
                      "define it with its labels first", field="subset")  # fmt: skip


def traffic_policy_for(rule: Obj, subset: str | None) -> Obj:
    """The effective trafficPolicy of a subset, as Istio computes it: the subset's own sections override the
    host-level ones section by section (connectionPool, outlierDetection, ...)."""
    spec = rule.get("spec") or {}
    policy = copy.deepcopy(spec.get("trafficPolicy") or {})
    for item in spec.get("subsets") or []:
        if isinstance(item, dict) and item.get("name") == subset:
            policy.update(copy.deepcopy(item.get("trafficPolicy") or {}))
    return policy
