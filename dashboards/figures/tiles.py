"""Kiosk tiles: one status per watched service or release, from the topology's inbound edges.

A watch entry is `namespace/app` (every version) or `namespace/app/version` (one release). The tile's numbers
are over the inbound edges of the matching nodes: RPS summed, success rate weighted by RPS, P99 the worst
edge's (percentiles of different edges cannot be merged from their values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboards.health import Health, Thresholds


@dataclass(frozen=True, slots=True)
class Tile:
    name: str
    health: Health
    rps: float | None
    success: float | None
    p99_ms: float | None
    note: str = ""


def _app(node: Mapping[str, Any]) -> str:
    """The name a watch entry matches: the app (app graphs), else the service or the workload."""
    return str(node.get("app") or node.get("service") or node.get("workload") or "")


def default_watch(topology: Mapping[str, Any]) -> tuple[str, ...]:
    """Every app with traffic in, as `namespace/app`."""
    names = {
        f"{n.get('namespace')}/{_app(n)}"
        for n in topology.get("nodes", [])
        if n.get("kind") != "unknown" and n.get("namespace") and _app(n) and (n.get("rps_in") or 0) > 0
    }
    return tuple(sorted(names))


def _matches(node: Mapping[str, Any], entry: str) -> bool:
    parts = entry.split("/")
    if node.get("namespace") != parts[0] or _app(node) != parts[1]:
        return False
    return len(parts) < 3 or node.get("version") == parts[2]


def tile(topology: Mapping[str, Any], entry: str, thresholds: Thresholds) -> Tile:
    ids = {n["id"] for n in topology.get("nodes", []) if _matches(n, entry)}
    if not ids:
        return Tile(entry, Health.IDLE, None, None, None, "not seen in this window")
    inbound = [e for e in topology.get("edges", []) if e["target"] in ids and e["source"] not in ids]
    total = sum(e.get("rps") or 0.0 for e in inbound)
    weighted = [(e["success_rate"], e.get("rps") or 0.0) for e in inbound if e.get("success_rate") is not None]
    weight = sum(w for _, w in weighted)
    success = sum(s * w for s, w in weighted) / weight if weight > 0 else None
    p99s = [e["p99_ms"] for e in inbound if e.get("p99_ms") is not None]
    health = thresholds.classify(success, total)
    note = "no requests in this window" if health is Health.IDLE else ""
    return Tile(entry, health, total, success, max(p99s) if p99s else None, note)


def kiosk_tiles(topology: Mapping[str, Any], watch: tuple[str, ...], thresholds: Thresholds) -> list[Tile]:
    return [tile(topology, entry, thresholds) for entry in watch or default_watch(topology)]
