"""Pure: the release strategy a service's live VirtualService applies to a baseline/canary pair.

Read from the VirtualService and its DestinationRule (subset name → `version` label; a subset without one is
taken to be named after its version). The default route is the last HTTP route without `match`:
- configured weights: the default route's weight per version (a lone destination weighs 100; a version it does
  not name weighs 0); unknown (None) without a VirtualService or when the default route names no subsets
  (Istio then balances over every version);
- match routes: observe's `observe-match-*` routes (any route with `match`) whose destinations include the
  canary: its callers differ from the baseline's by design;
- mirror: the default route copies a share of requests to the canary;
- blue-green: observe's `observe.io/blue-green-previous` annotation is set.
The kind is the first that applies of match (to the canary), mirror (to the canary), blue-green, weights; none
without a VirtualService.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BLUE_GREEN_ANNOTATION = "observe.io/blue-green-previous"


@dataclass(frozen=True)
class Strategy:
    kind: str  # weights | match | mirror | blue-green | none
    detail: str
    weights: Mapping[str, int] | None = None  # version → configured weight of the default route
    match_routes: tuple[str, ...] = ()  # routes that send requests by content to the canary
    mirror_percent: float | None = None  # share of requests copied to the canary

    def weight(self, version: str) -> int | None:
        return None if self.weights is None else self.weights.get(version, 0)

    def to_wire(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail}


NONE = Strategy("none", "no VirtualService: requests are balanced over every version")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _versions(rule: Mapping[str, Any] | None) -> dict[str, str]:
    subsets = _list(_dict(_dict(rule).get("spec")).get("subsets"))
    return {s["name"]: str(_dict(s.get("labels")).get("version", s["name"])) for s in subsets
            if isinstance(s, dict) and isinstance(s.get("name"), str)}  # fmt: skip


def _weights(route: Mapping[str, Any], versions: Mapping[str, str]) -> dict[str, int] | None:
    destinations = [_dict(d) for d in _list(route.get("route"))]
    subsets = [_dict(d.get("destination")).get("subset") for d in destinations]
    if not destinations or not all(isinstance(s, str) for s in subsets):
        return None
    out: dict[str, int] = {}
    for d, subset in zip(destinations, subsets, strict=True):
        weight = d.get("weight", 100 if len(destinations) == 1 else 0)
        version = versions.get(str(subset), str(subset))
        out[version] = out.get(version, 0) + (weight if isinstance(weight, int) else 0)
    return out


def _route_versions(route: Mapping[str, Any], versions: Mapping[str, str]) -> set[str]:
    subsets = (_dict(_dict(d).get("destination")).get("subset") for d in _list(route.get("route")))
    return {versions.get(s, s) for s in subsets if isinstance(s, str)}


def _split(weights: Mapping[str, int]) -> str:
    return ", ".join(f"{v} {w}%" for v, w in sorted(weights.items()))


def read_strategy(virtual_service: Mapping[str, Any] | None, rule: Mapping[str, Any] | None, canary: str) -> Strategy:
    if not virtual_service:
        return NONE
    versions = _versions(rule)
    routes = [_dict(r) for r in _list(_dict(virtual_service.get("spec")).get("http"))]
    default: dict[str, Any] = next((r for r in reversed(routes) if not r.get("match")), {})
    weights = _weights(default, versions)
    split = f"default route: {_split(weights)}" if weights else "default route: every version (no subsets)"
    matches = tuple(str(r.get("name") or f"http[{i}]") for i, r in enumerate(routes)
                    if r.get("match") and canary in _route_versions(r, versions))  # fmt: skip
    if matches:
        detail = f"route {', '.join(matches)} sends requests matching it to {canary}; {split}"
        return Strategy("match", detail, weights, matches)
    mirror = _dict(default.get("mirror"))
    if mirror and versions.get(str(mirror.get("subset")), mirror.get("subset")) == canary:
        percent = _dict(default.get("mirrorPercentage")).get("value", 100.0)
        detail = f"{percent:g}% of the default route's requests are mirrored to {canary}; {split}"
        return Strategy("mirror", detail, weights, mirror_percent=float(percent))
    annotations = _dict(_dict(virtual_service.get("metadata")).get("annotations"))
    if BLUE_GREEN_ANNOTATION in annotations:
        detail = f"blue-green: {split}; previous version {annotations[BLUE_GREEN_ANNOTATION]} kept for switch-back"
        return Strategy("blue-green", detail, weights)
    return Strategy("weights", split, weights)

