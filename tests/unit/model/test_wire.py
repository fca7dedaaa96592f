import math
import random
from dataclasses import replace

import pytest

from observe.model.ids import GraphType
from observe.model.merge import merge_traces
from observe.model.samples import VectorSample
from observe.model.topology import Topology, build_topology, forget_plans
from observe.model.trace_stats import EdgeTraceStats
from observe.model.wire import WireTopology, _round, topology_to_wire
from observe.sources.istio_queries import parse_quantiles, parse_rates
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, bookinfo_rates


@pytest.mark.parametrize("digits", [3, 4, 5])
def test_wire_rounding_is_pythons_round(digits: int) -> None:
    """The scaled rounding gives the very floats round(value, digits) gives (their JSON is the same text)."""
    rng = random.Random(7)
    values = [rng.random() * 10 ** rng.randint(-4, 6) * rng.choice((1, -1)) for _ in range(50_000)]
    values += [0.0, 1.0, 0.5, 2.675, 1e-9]
    assert [_round(v, digits) for v in values] == [round(v, digits) for v in values]


def test_a_value_an_ulp_from_halfway_may_differ_in_the_last_digit_only() -> None:
    value = 123456.78915  # stored as 123456.789149999…: round() goes down, the scaled product lands on .5
    assert round(value, 4) == 123456.7891
    assert _round(value, 4) == pytest.approx(round(value, 4), abs=1.01e-4)


def test_what_json_cannot_hold_is_null() -> None:
    assert [_round(v, 4) for v in (None, math.nan, math.inf, -math.inf)] == [None] * 4


def _topology(factor: float, p99_ms: float, traces: bool = False) -> Topology:
    rates = parse_rates([VectorSample(s.labels, s.value * factor) for s in bookinfo_rates()])
    quantiles = parse_quantiles([VectorSample({**PRODUCTPAGE_SRC, **REVIEWS["v2"], "quantile": "0.99"}, p99_ms)])
    topology = build_topology(GraphType.VERSIONED_APP, rates, tuple(quantiles), as_of=1.0, window_s=60)
    if not traces:
        return topology
    pair = (topology.node_key("bookinfo/productpage/v1"), topology.node_key("bookinfo/reviews/v2"))
    return merge_traces(topology, {pair: EdgeTraceStats(400, 8, 0.02, 10.0, 40.0, 70.0, ("ab" * 16,))}, 40.0)


def _without_kept_fields(topology: Topology) -> WireTopology:
    """The wire made whole: a graph that is not a plan's (a copy: not frozen) keeps no fixed fields."""
    return topology_to_wire(replace(topology, graph=topology.graph.copy()))


@pytest.mark.parametrize("traces", [False, True])
def test_a_refresh_of_a_views_edges_is_the_wire_made_whole(traces: bool) -> None:
    forget_plans()
    first = _topology(1.0, 40.0)
    topology_to_wire(first)  # the fixed fields of its graph's edges, kept
    for factor, p99_ms in ((2.0, 40.0), (3.0, 90.0)):  # new rates; then a new percentile query too
        again = _topology(factor, p99_ms, traces)
        assert again.graph is first.graph
        assert topology_to_wire(again) == _without_kept_fields(again)
        assert topology_to_wire(again)["edges"][0]["rps"] == factor * topology_to_wire(first)["edges"][0]["rps"]
    traced = {(e["source"], e["target"]): e for e in topology_to_wire(_topology(1.0, 40.0, True))["edges"]}
    assert traced["bookinfo/productpage/v1", "bookinfo/reviews/v2"]["seen_by"] == ["metrics", "traces"]
    assert traced["bookinfo/productpage/v1", "bookinfo/reviews/v1"]["trace"] is None
