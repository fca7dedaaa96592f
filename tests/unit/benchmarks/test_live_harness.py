"""Tiny runs of the live benchmarks (synthetic exporter + the real Prometheus binary), so they cannot rot.
They check that each harness measures what it says and writes its report, never how fast anything is."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from benchmarks import live, run, viewers
from benchmarks.kiali_plan import QUERIES_PER_NAMESPACE, plan
from benchmarks.stack import LiveStack
from observe.demo.synthetic import SyntheticConfig, draw_edges

needs_prometheus = pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs the prometheus binary")


def test_kiali_plan_issues_nine_queries_per_namespace() -> None:
    queries = plan(["a", "b"])
    assert len(queries) == 2 * QUERIES_PER_NAMESPACE
    assert sum('destination_workload_namespace="a"' in q for q in queries) == 3  # from unknown: HTTP, TCP, latency


def test_cpu_benchmarks_write_the_report(tmp_path: Path) -> None:
    results = run.main(["--quick", "--only", "cpu", "--out", str(tmp_path)])
    report = (tmp_path / "RESULTS.md").read_text()
    assert "OTLP protobuf ingest" in report and "| ≥ 50,000 |" in report
    assert json.loads((tmp_path / "results.json").read_text())["ingest"] == results["ingest"]


@pytest.fixture
async def stack() -> AsyncIterator[LiveStack]:
    async with LiveStack(SyntheticConfig(services=8, edges=12, namespaces=4), scrape_interval_s=0.5) as live_stack:
        yield live_stack


@needs_prometheus
async def test_live_benchmarks_measure_the_synthetic_mesh(stack: LiveStack) -> None:
    answers = live.answers(stack, repeat=1)
    assert answers["edges"] >= 12 and answers["rate_samples"] > 0

    topology = live.service(stack)
    assert await live.first_refresh(topology) == 2  # rates and percentiles
    plans = await live.plans(stack, topology, {"2": ["ns-0", "ns-1"], "all": [f"ns-{i}" for i in range(4)]}, 2, 5.0)
    assert plans["2"]["observe_queries_per_refresh"] == plans["all"]["observe_queries_per_refresh"] == 1
    assert plans["all"]["kiali_queries_per_refresh"] == 4 * QUERIES_PER_NAMESPACE

    refresh = await live.refresh(topology, 2)
    await topology[0].snapshots.source.close()
    assert refresh["refreshes"] == 2 and refresh["loop_lag_p99_ms"] >= 0
    # Prometheus's part is measured inside each refresh: a part of it, never all of it
    assert 0 < refresh["prometheus_median_s"] < refresh["refresh_median_s"]
    rejected = sum(edge.rejected_rps > 0 for edge in draw_edges(stack.config))
    # one answer per quantile per workload edge: requests rejected at the caller have no histogram
    assert live.p99_path(stack, repeat=1)["raw_samples"] == 3 * (answers["edges"] - rejected)

    watched = await viewers.run(stack, viewers=3, requests=3, phase_s=2.0, refresh_s=1)
    many = watched["many"]
    assert many["requests"] > 0 and many["refreshes"] > 0 and many["queries_per_refresh"] <= 2
    assert watched["rss_max_mb"] >= watched["rss_start_mb"] > 0

