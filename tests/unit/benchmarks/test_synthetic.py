"""The synthetic Istio exporter: its exposition is valid Prometheus text with the series a mesh of that size
has, its counters advance deterministically, and observe's model reads it as the asked-for mesh."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from observe.demo.istio_metrics import ENVOY_BUCKETS
from observe.demo.synthetic import SyntheticConfig, SyntheticExporter, SyntheticMesh, draw_edges
from observe.model.ids import GraphType, NodeKind
from observe.model.samples import VectorSample
from observe.model.topology import build_topology
from observe.sources.istio_queries import parse_rates

CONFIG = SyntheticConfig(services=30, edges=120, namespaces=4, seed=3)


def samples(mesh: SyntheticMesh, now: float) -> list[tuple[str, dict[str, str], float]]:
    text = mesh.exposition(now).decode()
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


def expected_series(config: SyntheticConfig) -> int:
    total = 0
    for edge in draw_edges(config):
        codes = 1 + (edge.error_share > 0) + (edge.not_found_share > 0)
        histogram = len(ENVOY_BUCKETS) + 3  # finite buckets, +Inf, _sum, _count
        total += 2 * codes + (edge.rejected_rps > 0) + codes * histogram
    return total


def test_exposition_parses_with_the_expected_series_count() -> None:
    mesh = SyntheticMesh(CONFIG, epoch_s=1000.0)
    parsed = samples(mesh, 1060.0)
    assert len(parsed) == mesh.series_count == expected_series(CONFIG)
    requests = [labels for name, labels, _ in parsed if name == "istio_requests_total"]
    assert {labels["reporter"] for labels in requests} == {"source", "destination"}
    rejected = [labels for labels in requests if labels["response_flags"] == "UO"]
    assert rejected and all(r["reporter"] == "source" and r["destination_workload"] == "unknown" for r in rejected)
    les = {labels["le"] for name, labels, _ in parsed if name.endswith("_bucket")}
    assert {"0.5", "1", "250", "3600000", "+Inf"} <= les  # printed as Envoy prints them


def test_counters_advance_deterministically() -> None:
    one, two = SyntheticMesh(CONFIG, epoch_s=1000.0), SyntheticMesh(CONFIG, epoch_s=1000.0)
    assert one.exposition(1100.0) == two.exposition(1100.0)
    before = {(n, tuple(sorted(la.items()))): v for n, la, v in samples(one, 1100.0)}
    after = {(n, tuple(sorted(la.items()))): v for n, la, v in samples(one, 1160.0)}
    assert all(after[key] >= value for key, value in before.items())
    requests = [key for key in before if key[0] == "istio_requests_total"]
    assert all(after[key] > before[key] for key in requests)  # every counter moves within a minute


def test_the_model_reads_the_asked_for_mesh() -> None:
    """Counters stand in for rates here: the shape of the graph is what is checked."""
    parsed = [VectorSample(labels, value) for name, labels, value in samples(SyntheticMesh(CONFIG), 0)
              if name == "istio_requests_total"]  # fmt: skip
    topology = build_topology(GraphType.VERSIONED_APP, parse_rates(parsed), [], as_of=0.0, window_s=60)
    rejected = sum(edge.rejected_rps > 0 for edge in draw_edges(CONFIG))
    to_services = [(s, t) for s, t in topology.graph.edges if topology.node_key(t).kind is NodeKind.SERVICE]
    assert topology.graph.number_of_edges() == CONFIG.edges + rejected and len(to_services) == rejected
    assert {topology.node_key(n).namespace for n in topology.graph.nodes} == {f"ns-{i}" for i in range(4)}


@pytest.mark.parametrize("bad", [{"services": 1}, {"namespaces": 0}, {"services": 3, "edges": 7}])
def test_impossible_meshes_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        SyntheticConfig(**bad)


async def test_the_exporter_serves_the_exposition_over_http() -> None:
    exporter = SyntheticExporter(SyntheticConfig(services=5, edges=8, namespaces=2))
    await exporter.start()
    try:
        async with aiohttp.ClientSession() as session, session.get(exporter.url) as resp:
            body = await resp.text()
        assert resp.status == 200 and resp.content_type == "text/plain"
        assert sum(len(f.samples) for f in text_string_to_metric_families(body)) == exporter.mesh.series_count
        assert exporter.scrape_targets == [f"127.0.0.1:{exporter.port}"]
    finally:
        await exporter.stop()
