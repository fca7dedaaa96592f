"""Parse and build cost at 10,000 edges without Prometheus: the two answers of a refresh, rendered as Prometheus
would send them for the synthetic mesh (observe.demo.synthetic), then parsed, built and put on the wire.

The rates answer holds what a view's keyed `rates_query` returns: one sample per edge and response code
(destination-reported) plus the source-reported rejections, with exactly the `by` labels, joined into one
(istio_queries.keyed); the percentile answer one sample per edge and quantile with the identity labels, joined,
valued at the edge's true log-normal quantile. Used where a live
Prometheus cannot hold such a mesh on the machine at hand (benchmarks.run), and by `make test` in small.
"""

from __future__ import annotations

import argparse
import json
import math
from statistics import NormalDist
from typing import Any

from benchmarks.live import GRAPH, measure_answers
from observe.demo.istio_metrics import destination_labels, source_labels
from observe.demo.synthetic import LATENCY_SIGMA, SyntheticConfig, draw_edges, identity
from observe.sources.istio_queries import EDGE_LABELS, IDENTITY_LABELS, QUANTILES, RESPONSE_LABELS, keyed_labels


def _vector(samples: list[tuple[dict[str, str], float]]) -> bytes:
    result = [{"metric": labels, "value": [1795414065.0, repr(value)]} for labels, value in samples]
    answer = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return json.dumps(answer, separators=(",", ":")).encode()  # compact, as Prometheus writes it


def answer_bodies(config: SyntheticConfig) -> tuple[bytes, bytes]:
    by, identity_by = EDGE_LABELS[GRAPH] + RESPONSE_LABELS, IDENTITY_LABELS[GRAPH]
    rates: list[tuple[dict[str, str], float]] = []
    quantiles: list[tuple[dict[str, str], float]] = []
    for edge in draw_edges(config):
        caller, callee = identity(edge.caller, config), identity(edge.callee, config)
        codes = {"200": 1.0 - edge.error_share - edge.not_found_share, "503": edge.error_share,
                 "404": edge.not_found_share}  # fmt: skip
        for code, share in codes.items():
            if share > 0:
                labels = destination_labels(callee, caller, code)
                rates.append((keyed_labels({k: labels[k] for k in by if labels.get(k)}), edge.rps * share))
        if edge.rejected_rps:
            labels = source_labels(caller, callee.service, None, None, "503", "UO")
            rates.append((keyed_labels({k: labels[k] for k in by if labels.get(k)}), edge.rejected_rps))
        labels = destination_labels(callee, caller, "200")
        for q in QUANTILES:
            value = edge.median_ms * math.exp(LATENCY_SIGMA * NormalDist().inv_cdf(q))
            identity_labels = {**{k: labels[k] for k in identity_by}, "quantile": f"{q:g}"}
            quantiles.append((keyed_labels(identity_labels, keep=("quantile",)), value))
    return _vector(rates), _vector(quantiles)


def run(services: int = 1000, edges: int = 10_000, namespaces: int = 200, repeat: int = 5) -> dict[str, Any]:
    config = SyntheticConfig(services=services, edges=edges, namespaces=min(namespaces, services))
    return measure_answers(*answer_bodies(config), repeat) | {"quantiles_from": "rendered offline"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--edges", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, value in run(args.services, args.edges, args.namespaces, args.repeat).items():
        print(f"{name:20s} {value}")


if __name__ == "__main__":
    main()
