import math
import random
from dataclasses import replace

import orjson
import pytest

from observe.model.ids import GraphType
from observe.model.merge import merge_traces
from observe.model.samples import VectorSample
from observe.model.topology import MissingSource, Topology, build_topology, forget_plans
from observe.model.trace_stats import EdgeTraceStats
from observe.model.wire import _round, topology_to_json, topology_to_wire
from observe.sources.istio_queries import parse_quantiles, parse_rates
from tests.unit.bookinfo_samples import PRODUCTPAGE_SRC, REVIEWS, UNREACHED_REVIEWS, bookinfo_rates, rate, side


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


def _without_kept_fields(topology: Topology) -> bytes:
    """The answer made whole: a graph that is not a plan's (a copy: not frozen) keeps nothing."""
    return orjson.dumps(topology_to_wire(replace(topology, graph=topology.graph.copy(), columns=None)))


@pytest.mark.parametrize("traces", [False, True])
def test_a_refresh_of_a_views_edges_is_the_answer_made_whole(traces: bool) -> None:
    forget_plans()
    first = _topology(1.0, 40.0)
    topology_to_json(first)  # its graph's templates, kept
    for factor, p99_ms in ((2.0, 40.0), (3.0, 90.0)):  # new rates; then a new percentile query too
        again = _topology(factor, p99_ms, traces)
        assert again.graph is first.graph
        assert topology_to_json(again) == _without_kept_fields(again)
        assert topology_to_wire(again)["edges"][0]["rps"] == factor * topology_to_wire(first)["edges"][0]["rps"]
    traced = {(e["source"], e["target"]): e for e in topology_to_wire(_topology(1.0, 40.0, True))["edges"]}
    assert traced["bookinfo/productpage/v1", "bookinfo/reviews/v2"]["seen_by"] == ["metrics", "traces"]
    assert traced["bookinfo/productpage/v1", "bookinfo/reviews/v1"]["trace"] is None


def _random_rates(rng: random.Random) -> list[VectorSample]:
    """A mesh of a few apps and versions with every kind of sample: several codes per edge, flags (one and
    several, in either order), source-only requests that reached no workload, mirrored copies, and values
    that are zero, tiny, huge or not numbers."""
    apps = [(f"app{i}", f"v{v}") for i in range(4) for v in range(2)]
    samples = []
    for _ in range(60):
        (src_app, src_version), (dst_app, dst_version) = rng.sample(apps, 2)
        src = side("source", f"{src_app}-{src_version}", src_app, src_version)
        service = f"{dst_app}.bookinfo.svc.cluster.local" + rng.choice(("", "", "", "-shadow"))
        unreached = rng.random() < 0.1
        dst = UNREACHED_REVIEWS if unreached else side("destination", f"{dst_app}-{dst_version}", dst_app, dst_version)
        value = rng.choice((0.0, 1e-7, 1e9, math.nan, math.inf)) if rng.random() < 0.1 else rng.random() * 50
        samples.append(rate(src, dst, service, rng.choice(("200", "200", "404", "500", "503", "0")), value,
                            "source" if unreached or rng.random() < 0.2 else "destination",
                            rng.choice(("-", "-", "UO", "URX,UF", "UF,URX", "UH"))))  # fmt: skip
    return samples


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("graph", list(GraphType))
def test_the_answer_from_columns_is_the_wire_from_each_edges_stats(graph: GraphType, seed: int) -> None:
    """A plan's build rounds and writes its numbers in bulk: the same JSON, byte for byte, as edge by edge."""
    forget_plans()
    samples = _random_rates(random.Random(seed))
    for factor in (1.0, 3.0):  # a view's first build, then a refresh of its plan
        topology = build_topology(graph, parse_rates([VectorSample(s.labels, s.value * factor) for s in samples]),
                                  (), as_of=1.0, window_s=60)  # fmt: skip
        assert topology.columns is not None
        assert topology_to_json(topology) == _without_kept_fields(topology)
    edges = topology_to_wire(topology)["edges"]
    assert any(len(e["responses"]) > 1 for e in edges) and any(len(e["flags"]) > 1 for e in edges)
    assert any(e["mirror"] for e in edges) and any(e["rps"] is None or e["success_rate"] is None for e in edges)


def _json_cases(seed: int, graph: GraphType) -> list[Topology]:
    """A view's first build, a refresh of it, one after a new percentile query, the same with traces on two of
    its edges and one seen in traces only (no plan's graph then), stale with a source missing, and empty."""
    forget_plans()
    samples = _random_rates(random.Random(seed))
    quantiles = parse_quantiles([VectorSample({**s.labels, "quantile": "0.99"}, 40.0 + i)
                                 for i, s in enumerate(samples)])  # fmt: skip
    scaled = [(parse_rates([VectorSample(s.labels, s.value * f) for s in samples]), q)
              for f, q in ((1.0, ()), (2.0, ()), (2.0, tuple(quantiles)))]  # fmt: skip
    builds = [build_topology(graph, rates, q, as_of=1.0, window_s=60) for rates, q in scaled]
    edges = [(builds[0].node_key(s), builds[0].node_key(t)) for s, t in list(builds[0].stats)[:2]]
    trace = EdgeTraceStats(400, 8, 0.02, 10.0, 40.0, 70.0, ("ab" * 16,))
    traced = merge_traces(builds[2], dict.fromkeys(edges, trace), 40.0)
    elsewhere = (edges[0][0], replace(edges[0][1], namespace="elsewhere", app="new"))
    trace_only = merge_traces(builds[2], {**dict.fromkeys(edges, trace), elsewhere: trace}, 40.0)
    stale = replace(builds[1], stale=True, missing=(MissingSource("prometheus", "rates: timeout after 5s"),))
    empty = build_topology(graph, [], (), as_of=1.0, window_s=60)
    return [*builds, traced, trace_only, stale, empty]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("graph", list(GraphType))
def test_the_answers_json_is_the_wires_json_byte_for_byte(graph: GraphType, seed: int) -> None:
    cases = _json_cases(seed, graph)
    for topology in cases:
        assert topology_to_json(topology) == orjson.dumps(topology_to_wire(topology))
    assert cases[3].columns is not None and cases[4].columns is None  # traces on plan edges; a trace-only edge
    assert orjson.loads(topology_to_json(cases[3]))["edges"] != orjson.loads(topology_to_json(cases[2]))["edges"]
