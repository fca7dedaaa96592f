"""Topology build cost on a synthetic mesh: parse answers → graph → wire JSON, without Prometheus.

The samples are what the rates query returns for `services` apps with `edges` caller→callee edges (two
response codes each), and what the percentile union returns (three quantiles per edge). Figures are the
best CPU milliseconds of `repeat` runs of each stage.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable

from benchmarks.timing import best_cpu_s
from observe.model.ids import GraphType
from observe.model.samples import VectorSample
from observe.model.topology import build_topology
from observe.model.wire import topology_to_wire
from observe.sources.istio_queries import parse_quantiles, parse_rates


def _side(prefix: str, service: int) -> dict[str, str]:
    return {f"{prefix}_workload_namespace": f"ns-{service % 50}", f"{prefix}_workload": f"svc-{service}-v1",
            f"{prefix}_canonical_service": f"svc-{service}", f"{prefix}_canonical_revision": "v1"}  # fmt: skip


def synthetic(services: int, edges: int, seed: int = 1) -> tuple[list[VectorSample], list[VectorSample]]:
    rng = random.Random(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        a, b = rng.randrange(services), rng.randrange(services)
        if a != b:
            pairs.add((a, b))
    rates, quantiles = [], []
    for a, b in sorted(pairs):
        base = {**_side("source", a), **_side("destination", b), "request_protocol": "http",
                "destination_service": f"svc-{b}.ns-{b % 50}.svc.cluster.local"}  # fmt: skip
        for code, rps in (("200", rng.uniform(1, 50)), ("503", rng.uniform(0, 0.5))):
            rates.append(VectorSample({**base, "reporter": "destination", "response_code": code,
                                       "response_flags": "-"}, rps))  # fmt: skip
        for q in ("0.5", "0.95", "0.99"):
            quantiles.append(VectorSample({**base, "quantile": q}, rng.uniform(1, 500)))
    return rates, quantiles


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    return best_cpu_s(fn, repeat) * 1000


def run(services: int = 1000, edges: int = 10_000, repeat: int = 3) -> dict[str, float]:
    rates, quantiles = synthetic(services, edges)
    parsed_rates, parsed_q = parse_rates(rates), parse_quantiles(quantiles)

    def build() -> object:
        return build_topology(GraphType.VERSIONED_APP, parsed_rates, parsed_q, as_of=0.0, window_s=60)

    topology = build()
    wire = topology_to_wire(topology)  # type: ignore[arg-type]
    return {
        "edges": float(topology.graph.number_of_edges()),  # type: ignore[attr-defined]
        "parse_ms": best_ms(lambda: (parse_rates(rates), parse_quantiles(quantiles)), repeat),
        "build_ms": best_ms(build, repeat),
        "wire_ms": best_ms(lambda: topology_to_wire(topology), repeat),  # type: ignore[arg-type]
        "wire_bytes": float(len(json.dumps(wire))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, value in run(args.services, args.edges, args.repeat).items():
        print(f"{name:32s} {value:12,.1f}")


if __name__ == "__main__":
    main()
