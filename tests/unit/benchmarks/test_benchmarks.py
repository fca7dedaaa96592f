"""Tiny runs of each benchmark, so they cannot rot. They check the harness works, never how fast."""

from benchmarks import ingest, topology_build


def test_ingest_benchmark_decodes_and_pairs_every_span() -> None:
    figures = ingest.run(traces=20, repeat=1)
    assert figures["spans"] == 20 * len(ingest.HOPS) * 2
    assert all(figures[name] > 0 for name in figures)


def test_topology_build_benchmark_builds_the_asked_mesh() -> None:
    figures = topology_build.run(services=50, edges=200, namespaces=5, repeat=1)
    rejected = 200 // 50  # one edge in fifty also has rejected requests: an edge to the callee's service node
    assert figures["edges"] == 200 + rejected and figures["quantile_samples"] == 3 * 200
    assert figures["wire_bytes"] > 200 * 100
