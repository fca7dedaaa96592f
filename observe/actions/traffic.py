"""Pure: release strategies as a service's VirtualService plus the DestinationRule subsets it routes to.

Objects: the VirtualService and DestinationRule observe manages for a service are named after it
(`rule_name`) in its namespace; a new VirtualService has `hosts: [service]`, a new DestinationRule
`host: service`. Subsets: one per version label (name = the version made a DNS label, `labels: {version: v}`,
with a `-2`, `-3`... suffix when another subset has that name already: `v1.0` and `v1-0`, or a subset `v2`
that selects `version: canary`); an existing subset whose `labels.version` is the version is reused, and every
other subset, the trafficPolicy and all metadata are kept, so a circuit breaker set before survives a traffic
edit.

Known versions: those of the DestinationRule's subsets plus the `versions` the caller declares (the version
labels its workloads carry, e.g. discovered from metrics by `GET /api/v1/versions`). A strategy naming any
other version is refused (field `weights.<v>` or `version`), as a subset without pods would route to nothing.

Routes: the *default route* is the last HTTP route without `match` (created when missing). Match routes that
observe adds are named `observe-match-<kind>-<name>` and sit before the default route.
- weights: the default route's destinations become the given subsets and weights (integers summing to 100;
  zero weights kept, so the version stays visible in the split); match routes and a mirror are kept.
- take-over V / roll-back [V]: every route of this host sends 100% to V, observe's match routes and those
  routes' mirrors are removed. A route of this host is one whose destinations all name the service (short,
  namespaced or cluster-local name) and that has no redirect, directResponse or delegate: those, and routes to
  other hosts, are left as they are. Roll-back's V defaults to the VirtualService's `observe.io/baseline`
  annotation, else the first known version in sort order (v1).
- blue-green V: as take-over, plus the annotation `observe.io/blue-green-previous` naming the version that had
  the most weight before, which stays a subset: switching back is one more `blue-green <previous>`.
- mirror V P: the default route copies P% (0 < P <= 100) of its requests to V (`mirror`, `mirrorPercentage`);
  P = 0 removes the mirror. Refused when the default route already sends traffic to V (field `version`) or
  when it routes by host only (all versions receive traffic then: set weights first).
- match: a route `[match] → V` inserted before the default route, replacing observe's route of the same kind
  and name; everything else keeps its current weights (a new default route sends to the host, which Istio
  balances over all versions, as without a VirtualService).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from observe.actions.destination_rules import rule_name
from observe.actions.resources import DESTINATION_RULE, VIRTUAL_SERVICE, Obj, ObjectRef, skeleton
from observe.actions.traffic_match import (
    RequestMatch,
    check_virtual_service,
    destination_of,
    goes_to,
    items_of,
    receives,
)
from observe.errors import InvalidEdit

STRATEGIES = ("weights", "take-over", "roll-back", "blue-green", "mirror", "match")
BASELINE_ANNOTATION = "observe.io/baseline"
PREVIOUS_ANNOTATION = "observe.io/blue-green-previous"
MATCH_ROUTE_PREFIX = "observe-match-"
VERSION = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")  # a Kubernetes label value
NOT_FORWARDING = ("redirect", "directResponse", "delegate")  # route kinds that send nowhere to rewrite


@dataclass(frozen=True)
class TrafficChange:
    """One traffic edit; which fields matter depends on the strategy (see the module docstring)."""

    strategy: str
    weights: Mapping[str, int] = field(default_factory=dict)
    version: str | None = None
    mirror_percent: float | None = None
    match: RequestMatch | None = None
    versions: tuple[str, ...] = ()  # declared version labels, beyond the DestinationRule's subsets

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InvalidEdit(f"strategy: must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}",
                              field="strategy")  # fmt: skip
        for version in (*self.versions, *self.weights, *([self.version] if self.version else [])):
            if not isinstance(version, str) or not VERSION.fullmatch(version):
                raise InvalidEdit(f"version: {version!r} is not a version label value", field="version")
        needs_version = self.strategy in ("take-over", "blue-green", "mirror", "match")
        if needs_version and not self.version:
            raise InvalidEdit(f"version: required for strategy {self.strategy}", field="version")
        if self.strategy == "weights":
            _check_weights(self.weights)
        if self.strategy == "mirror":
            p = self.mirror_percent
            if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p) or not 0 <= p <= 100:
                raise InvalidEdit(f"mirror_percent: a percentage between 0 and 100, got {p!r}", field="mirror_percent")
        if self.strategy == "match" and self.match is None:
            raise InvalidEdit("match: required for strategy match", field="match")


def _check_weights(weights: Mapping[str, int]) -> None:
    if not weights:
        raise InvalidEdit("weights: required, e.g. {v1: 80, v2: 20}", field="weights")
    for version, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            where = f"weights.{version}"
            raise InvalidEdit(f"{where}: an integer from 0 to 100, got {weight!r}", field=where)
    if sum(weights.values()) != 100:
        raise InvalidEdit(f"weights: must sum to 100, got {sum(weights.values())} ({dict(weights)})", field="weights")


def virtual_service_ref(namespace: str, service: str) -> ObjectRef:
    return ObjectRef(VIRTUAL_SERVICE, namespace, rule_name(service, namespace))


def destination_rule_ref(namespace: str, service: str) -> ObjectRef:
    return ObjectRef(DESTINATION_RULE, namespace, rule_name(service, namespace))


def subset_labels(rule: Mapping[str, Any] | None) -> dict[str, str]:
    """subset name → the version it selects (its `labels.version`, else its name), for every named subset."""
    out: dict[str, str] = {}
    for subset in items_of(((rule or {}).get("spec") or {}).get("subsets")):
        if isinstance(subset, dict) and isinstance(subset.get("name"), str) and subset["name"]:
            labels = subset.get("labels")
            version = labels.get("version") if isinstance(labels, dict) else None
            out.setdefault(subset["name"], str(version) if version else subset["name"])
    return out


def subset_versions(rule: Obj | None) -> dict[str, str]:
    """version label → the first subset name that selects it."""
    out: dict[str, str] = {}
    for name, version in subset_labels(rule).items():
        out.setdefault(version, name)
    return out


def subset_name(version: str, taken: set[str]) -> str:
    """The version made a DNS label, with a -2, -3... suffix when `taken` has it (63 characters at most)."""
    base = re.sub(r"[^a-z0-9-]+", "-", version.lower()).strip("-") or "default"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:62 - len(str(n))]}-{n}"
    return name


def host_names(host: str, namespace: str) -> frozenset[str]:
    """The names a route's destination may give the service: short, namespaced, `.svc`, cluster-local."""
    short = host.split(".")[0]
    forms = {short, f"{short}.{namespace}", f"{short}.{namespace}.svc", f"{short}.{namespace}.svc.cluster.local"}
    return frozenset(forms) if host in forms else frozenset({host})


def targets(change: TrafficChange, rule: Obj | None, live_vs: Obj | None) -> list[str]:
    """The versions `change` routes to, each checked to be known."""
    known = sorted(set(subset_versions(rule)) | set(change.versions))
    if change.strategy == "weights":
        wanted = {f"weights.{v}": v for v in change.weights}
    elif change.strategy == "roll-back":
        wanted = {"version": change.version or _baseline(live_vs) or (known[0] if known else "")}
    else:
        wanted = {"version": str(change.version)}
    for where, version in wanted.items():
        if version not in known:
            hint = ", ".join(known) if known else "none: declare the version labels (versions) or add subsets"
            raise InvalidEdit(f"{where}: unknown version {version!r} (known: {hint})", field=where)
    return list(wanted.values())


def with_subsets(live: Obj | None, ref: ObjectRef, service: str, versions: list[str]) -> Obj:
    """The DestinationRule with a subset for every version in `versions` (existing ones untouched)."""
    rule = copy.deepcopy(live) if live is not None else skeleton(ref, {"host": service})
    have = subset_versions(rule)
    taken = set(subset_labels(rule))
    subsets = rule["spec"].setdefault("subsets", [])
    for version in versions:
        if version not in have:
            name = subset_name(version, taken)
            subsets.append({"name": name, "labels": {"version": version}})
            have[version] = name
            taken.add(name)
    return rule


def with_routes(live: Obj | None, ref: ObjectRef, service: str, change: TrafficChange, rule: Obj) -> Obj:
    """The VirtualService after `change`, routing to `rule`'s subsets; checked like Istio's webhook would."""
    vs = copy.deepcopy(live) if live is not None else skeleton(ref, {"hosts": [service], "http": []})
    subsets = subset_versions(rule)
    host = str((rule.get("spec") or {}).get("host") or service)
    versions = targets(change, rule, live)
    hosts = host_names(host, ref.namespace)
    routes: list[Any] = vs["spec"].setdefault("http", [])
    default = _default_route(routes, host)
    if change.strategy == "weights":
        default["route"] = [_destination(host, subsets[v], w) for v, w in change.weights.items()]
    elif change.strategy in ("take-over", "roll-back", "blue-green"):
        if change.strategy == "blue-green":
            previous = _heaviest(default, subsets)
            annotations = vs["metadata"].setdefault("annotations", {})
            if previous and previous != versions[0]:
                annotations[PREVIOUS_ANNOTATION] = previous
        routes[:] = [r for r in routes if not _name(r).startswith(MATCH_ROUTE_PREFIX)]
        for route in routes:
            if _forwards_to(route, hosts):
                route["route"] = [_destination(host, subsets[versions[0]], 100)]
                route.pop("mirror", None)
                route.pop("mirrorPercentage", None)
    elif change.strategy == "mirror":
        _set_mirror(default, host, subsets[versions[0]], float(change.mirror_percent or 0))
    else:
        assert change.match is not None  # checked by TrafficChange
        routes[:] = [r for r in routes if _name(r) != change.match.route_name]
        routes.insert(routes.index(_default_route(routes, host)), {
            "name": change.match.route_name, "match": [change.match.to_wire()],
            "route": [{"destination": {"host": host, "subset": subsets[versions[0]]}}]})  # fmt: skip
    check_virtual_service(vs, set(subsets.values()), hosts)
    return vs


def _name(route: Any) -> str:
    return str(route.get("name") or "") if isinstance(route, dict) else ""


def _forwards_to(route: Any, hosts: frozenset[str]) -> bool:
    """Whether `route` forwards to this host only (no redirect, direct response or delegation)."""
    if not isinstance(route, dict) or any(key in route for key in NOT_FORWARDING):
        return False
    return all(goes_to(destination_of(d), hosts) for d in items_of(route.get("route")))


def _default_route(routes: list[Obj], host: str) -> Obj:
    for route in reversed(routes):
        if isinstance(route, dict) and not route.get("match"):
            return route
    created: Obj = {"name": "default", "route": [{"destination": {"host": host}}]}
    routes.append(created)
    return created


def _destination(host: str, subset: str, weight: int) -> Obj:
    return {"destination": {"host": host, "subset": subset}, "weight": weight}


def _set_mirror(route: Obj, host: str, subset: str, percent: float) -> None:
    if percent == 0:
        route.pop("mirror", None)
        route.pop("mirrorPercentage", None)
        return
    receiving = [destination_of(d).get("subset") for d in items_of(route.get("route"))
                 if isinstance(d, dict) and receives(d)]  # fmt: skip
    if None in receiving:
        raise InvalidEdit("version: the default route sends to every version of the host (no subsets): set "
                          "weights first, then mirror to a version that gets none of the traffic", field="version")
    if subset in receiving:
        raise InvalidEdit(f"version: {subset} already receives this traffic: mirror to a version that does not "
                          "(mirror.subset must differ from the route's destinations)", field="version")  # fmt: skip
    route["mirror"] = {"host": host, "subset": subset}
    route["mirrorPercentage"] = {"value": percent}


def _heaviest(route: Obj, subsets: Mapping[str, str]) -> str | None:
    by_subset = {name: version for version, name in subsets.items()}
    destinations = [d for d in items_of(route.get("route")) if isinstance(d, dict)]
    best = max(destinations, key=_weight, default=None)
    subset = destination_of(best).get("subset")
    return by_subset.get(subset) if isinstance(subset, str) else None


def _weight(destination: Obj) -> int:
    weight = destination.get("weight", 100)  # no weight: the only destination
    return weight if isinstance(weight, int) else 0


def _baseline(live_vs: Obj | None) -> str | None:
    value = (((live_vs or {}).get("metadata") or {}).get("annotations") or {}).get(BASELINE_ANNOTATION)
    return str(value) if value else None


def plan(change: TrafficChange, namespace: str, service: str, live_vs: Obj | None,
         live_dr: Obj | None) -> tuple[Obj, Obj]:  # fmt: skip
    """(DestinationRule, VirtualService) after `change`: both objects, for previews and tests."""
    rule = with_subsets(live_dr, destination_rule_ref(namespace, service), service, targets(change, live_dr, live_vs))
    return rule, with_routes(live_vs, virtual_service_ref(namespace, service), service, change, rule)
