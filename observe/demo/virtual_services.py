"""How the demo's caller sidecars route a request under a VirtualService of the rules directory, as Envoy runs
the routes Istio generates from it.

Per request (`decide`): the first `http` route that matches wins. A route without `match` matches everything;
otherwise one of its match entries must hold, every condition of an entry at once: `uri` and each of `headers`
(lower-case names) as `exact`, `prefix` or `regex` — a regex must match the whole value, as Envoy's RE2
safe_regex does (so the cookie regex `^(.*?;\\s*)?(user=jason)(;.*)?$` of Istio's docs works as there). No
route matching → 404 with response flag NR, as Envoy answers. Then one destination is drawn by weight (a
single destination without weight takes 100); its subset is turned into a version label through the
DestinationRule's subsets — a subset it does not define → 503 NC (cluster not found). A destination without
subset means "any version": the mesh's own weights decide, as without a VirtualService.

Mirroring: the winning route's `mirror` (subset → version) receives a copy of `mirrorPercentage.value` percent of
its requests (100 when unset). The caller sends the copy fire-and-forget and drops its response; like Envoy it
appends `-shadow` to the host of the copy (`reviews.bookinfo.svc.cluster.local-shadow:9080`), which is how the
destination tells a mirrored request apart (see `is_shadow`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import re2

from observe.actions.traffic import subset_labels

SHADOW_SUFFIX = "-shadow"


@dataclass(frozen=True)
class Decision:
    """Where one request goes: `version` None means any version (the mesh's weights); `flag` set means the
    request fails at the caller with that Envoy response flag (NR: no route, NC: no such subset)."""

    version: str | None = None
    mirror: str | None = None
    flag: str | None = None


def is_shadow(authority: str) -> bool:
    """Whether a request's Host/:authority is that of a mirrored copy (Envoy appends -shadow to the host)."""
    return authority.rsplit(":", 1)[0].endswith(SHADOW_SUFFIX) if authority else False


def shadow_authority(host: str, port: int) -> str:
    return f"{host}{SHADOW_SUFFIX}:{port}"


def decide(vs: Mapping[str, Any], rule: Mapping[str, Any] | None, path: str, headers: Mapping[str, str],
           rng: random.Random) -> Decision:  # fmt: skip
    versions = subset_labels(rule)  # subset name → version label
    for route in (vs.get("spec") or {}).get("http") or []:
        if not isinstance(route, dict) or not _route_matches(route.get("match"), path, headers):
            continue
        destinations = [d for d in route.get("route") or [] if isinstance(d, dict)]
        weights = [d.get("weight", 100 if len(destinations) == 1 else 0) or 0 for d in destinations]
        if not destinations or sum(weights) <= 0:
            return Decision(flag="NR")
        chosen = rng.choices(destinations, weights=weights)[0]
        subset = (chosen.get("destination") or {}).get("subset")
        if subset is not None and subset not in versions:
            return Decision(flag="NC")
        return Decision(versions.get(subset) if subset else None, _mirror(route, versions, rng))
    return Decision(flag="NR")


def _mirror(route: Mapping[str, Any], versions: Mapping[str, str], rng: random.Random) -> str | None:
    mirror = route.get("mirror")
    if not isinstance(mirror, dict) or mirror.get("subset") not in versions:
        return None
    percent = (route.get("mirrorPercentage") or {}).get("value", 100.0)
    return versions[mirror["subset"]] if rng.random() * 100.0 < float(percent) else None


def _route_matches(matches: Any, path: str, headers: Mapping[str, str]) -> bool:
    if not matches:
        return True
    return any(_entry_matches(m, path, headers) for m in matches if isinstance(m, dict))


def _entry_matches(entry: Mapping[str, Any], path: str, headers: Mapping[str, str]) -> bool:
    if "uri" in entry and not _string_matches(entry["uri"], path):
        return False
    for name, condition in (entry.get("headers") or {}).items():
        value = headers.get(name)
        if value is None or not _string_matches(condition, value):
            return False
    return True


def _string_matches(condition: Any, value: str) -> bool:
    if not isinstance(condition, dict):
        return False
    if "exact" in condition:
        return bool(value == condition["exact"])
    if "prefix" in condition:
        return value.startswith(str(condition["prefix"]))
    if "regex" in condition:
        try:
            return re2.fullmatch(str(condition["regex"]), value) is not None
        except re2.error:  # refused by the edit pipeline; a hand-written bad regex matches nothing, as in Envoy
            return False
    return True  # an empty StringMatch: the header must only be present

