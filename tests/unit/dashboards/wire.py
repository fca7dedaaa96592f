"""Wire fixtures (tests/fixtures/wire) and a synthetic large topology for the dashboards tests."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parents[2] / "fixtures" / "wire"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def _edge(source: str, target: str, rng: random.Random) -> dict[str, Any]:
    rps = round(rng.lognormvariate(0.5, 1.2), 4)
    failing = rng.random() < 0.1
    success = round(rng.uniform(0.7, 0.98), 5) if failing else 1.0
    p99 = round(rng.lognormvariate(3.5, 0.8), 3)
    flags = {"UO": round(rps * 0.05, 4)} if failing and rng.random() < 0.3 else {}
    return {
        "source": source, "target": target, "protocol": "http", "rps": rps, "success_rate": success,
        "error_rate_5xx": round(1 - success, 5), "rate_4xx": 0.0, "no_response_rate": 0.0,
        "p50_ms": round(p99 / 6, 3), "p50_bounds_ms": [0, 25], "p95_ms": round(p99 / 2, 3),
        "p95_bounds_ms": [10, 50], "p99_ms": p99, "p99_bounds_ms": [25, 100], "p99_overflow": False,
        "responses": {"200": round(rps * success, 4), **({"503": round(rps * (1 - success), 4)} if failing else {})},
        "flags": flags, "reporters": ["destination"], "trace": None, "seen_by": ["metrics"],
        "health": "failing" if failing else "healthy",
    }  # fmt: skip


def synthetic_topology(nodes: int = 300, edges: int = 1000, namespaces: int = 10, seed: int = 7) -> dict[str, Any]:
    """`nodes` apps in `namespaces` namespaces over 6 tiers, `edges` calls mostly from one tier to the next."""
    rng = random.Random(seed)
    tiers: list[list[str]] = [[] for _ in range(6)]
    wire_nodes = []
    for i in range(nodes):
        ns, tier = f"team-{i % namespaces:02d}", min(5, i * 6 // nodes)
        node_id = f"{ns}/svc{i:03d}/v1"
        tiers[tier].append(node_id)
        wire_nodes.append({"id": node_id, "kind": "app", "namespace": ns, "app": f"svc{i:03d}", "version": "v1",
                           "workload": f"svc{i:03d}-v1", "workloads": [f"svc{i:03d}-v1"], "service": "",
                           "health": "healthy", "rps_in": 1.0, "rps_out": 1.0})  # fmt: skip
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < edges:
        tier = rng.randrange(5)
        jump = 1 if rng.random() < 0.85 else rng.randrange(1, 6 - tier)
        pairs.add((rng.choice(tiers[tier]), rng.choice(tiers[min(5, tier + jump)])))
    wire_edges = [_edge(s, t, rng) for s, t in sorted(pairs)]
    return {"as_of": 1795414065.0, "window_s": 60.0, "graph": "versioned-app", "stale": False, "missing": [],
            "nodes": wire_nodes, "edges": wire_edges}  # fmt: skip
