"""`make bench`: every figure of issue 8, printed and written to benchmarks/RESULTS.md and results.json.

Sessions:
  model   parse, build and wire at --model-edges (10,000) from the answers Prometheus would send for the
          synthetic mesh (1,000 services), rendered offline (benchmarks.topology_build): CPU figures free of
          Prometheus and its scrapes, which share the 2 cores (the sweep's 10,000 point is the live one);
  main    a synthetic exporter + real Prometheus with observe's recording rules (benchmarks.stack) at
          --services/--edges/--namespaces (1,000 / 2,000 / 200): parse and build on the real answers, queries
          and time per refresh of observe's plan and of Kiali's for 5 namespaces and for all, end-to-end
          refreshes with our overhead, event-loop lag and RSS, the P99 query raw vs from the rules, whether each
          P99 lies in its bucket, 50 viewers of a real `observe serve`;
  sweep   --sweep services (100, 1,000, 5,000, 10,000; edges = services): how the per-refresh figures grow,
          live; a point Prometheus cannot scrape in time is reported as such.
  cpu     OTLP ingest (benchmarks.ingest) and trace P99 accuracy (benchmarks.accuracy);
  browser the payloads and render time of a 300-node topology in headless Debian Chromium
          (tests/e2e/measure_render.py: the real UI over a stand-in API).
Every run is bounded (counts and time budgets); `--quick` is the seconds-long version `make test` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import accuracy, ingest, live, topology_build, viewers
from benchmarks.kiali_plan import QUERIES_PER_NAMESPACE
from benchmarks.stack import LiveStack
from observe.cli.serve import tune_gc
from observe.demo.prometheus import PrometheusStartError
from observe.demo.synthetic import SyntheticConfig
from observe.sources import istio_queries
from observe.sources.istio_queries import quantiles_query

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Plan:
    services: int = 1000
    edges: int = 2000
    namespaces: int = 200
    model_edges: int = 10_000
    sweep: tuple[int, ...] = (100, 1000, 5000, 10_000)
    refreshes: int = 20
    sweep_refreshes: int = 20
    kiali_budget_s: float = 60.0
    viewers: int = 50
    viewer_requests: int = 60
    viewer_phase_s: float = 30.0
    viewer_refresh_s: int = 5
    scrape_interval_s: float = 5.0
    # the sweep's: Prometheus's and Istio's default. At 10,000 services every 5 s the exporter and Prometheus's
    # ingest (276k series, 240 MB a scrape) took the 2 cores the refreshes run on, which a Prometheus of its
    # own does not
    sweep_scrape_interval_s: float = 15.0
    traces: int = 2000
    accuracy_traces: int = 5000
    browser_nodes: int = 300
    browser_edges: int = 1000


QUICK = Plan(services=20, edges=40, namespaces=6, model_edges=200, sweep=(10, 20), refreshes=3, sweep_refreshes=2,
             kiali_budget_s=5.0, viewers=5, viewer_requests=10, viewer_phase_s=4.0, viewer_refresh_s=1,
             scrape_interval_s=0.5, sweep_scrape_interval_s=0.5, traces=20, accuracy_traces=300, browser_nodes=30,
             browser_edges=60)  # fmt: skip


def _stack(plan: Plan, services: int, edges: int, namespaces: int, rules: bool = False,
           scrape_interval_s: float | None = None) -> LiveStack:  # fmt: skip
    config = SyntheticConfig(services=services, edges=edges, namespaces=min(namespaces, services))
    return LiveStack(config, scrape_interval_s=scrape_interval_s or plan.scrape_interval_s, rules=rules)


async def main_session(plan: Plan) -> dict[str, Any]:
    async with _stack(plan, plan.services, plan.edges, plan.namespaces, rules=True) as stack:
        names = [f"ns-{i}" for i in range(stack.config.namespaces)]
        out: dict[str, Any] = {"config": vars(stack.config) | {"series": stack.series}}
        out["answers"] = live.answers(stack)
        topology = live.service(stack)
        try:
            out["first_refresh_queries"] = await live.first_refresh(topology)
            out["plans"] = await live.plans(stack, topology, {"5": names[:5], "all": names}, plan.sweep_refreshes,
                                            plan.kiali_budget_s)  # fmt: skip
            out["refresh"] = await live.refresh(topology, plan.refreshes)
        finally:
            await topology[0].snapshots.source.close()
        out["p99"] = live.p99_path(stack)
        _, body = stack.raw_query(quantiles_query(live.GRAPH, live.WINDOW_S, rules=True))
        out["bounds"] = accuracy.histogram_p99_in_bounds(stack.config, _p99_estimates(body))
        out["viewers"] = await viewers.run(stack, plan.viewers, plan.viewer_requests, plan.viewer_phase_s,
                                           plan.viewer_refresh_s)  # fmt: skip
        return out


def _p99_estimates(body: bytes) -> dict[tuple[str, str], float]:
    results = json.loads(body)["data"]["result"]
    return {
        (r["metric"]["source_canonical_service"], r["metric"]["destination_canonical_service"]): float(r["value"][1])
        for r in results
        if r["metric"].get("quantile") == "0.99" and r["value"][1] != "NaN"
    }


async def sweep_session(plan: Plan, services: int) -> dict[str, Any]:
    try:
        return await _sweep_point(plan, services)
    except (TimeoutError, PrometheusStartError) as exc:  # the machine could not hold the mesh: that is the figure
        return {"config": {"services": services, "edges": services}, "error": str(exc).splitlines()[0]}


async def _sweep_point(plan: Plan, services: int) -> dict[str, Any]:
    scrape_s = plan.sweep_scrape_interval_s
    async with _stack(plan, services, services, plan.namespaces, scrape_interval_s=scrape_s) as stack:
        names = [f"ns-{i}" for i in range(stack.config.namespaces)]
        out: dict[str, Any] = {"config": vars(stack.config) | {"series": stack.series}}
        out["answers"] = live.answers(stack, repeat=3)
        topology = live.service(stack)
        try:
            out["first_refresh_queries"] = await live.first_refresh(topology)
            out["plans"] = await live.plans(stack, topology, {"all": names}, plan.sweep_refreshes,
                                            plan.kiali_budget_s / 4)  # fmt: skip
            out["refresh"] = await live.refresh(topology, plan.sweep_refreshes)
        finally:
            await topology[0].snapshots.source.close()
        return out


async def run(plan: Plan, only: set[str] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}

    def wanted(name: str) -> bool:
        if only is None or name in only:
            print(f"[{time.strftime('%H:%M:%S')}] {name} …", file=sys.stderr, flush=True)
            return True
        return False

    if wanted("cpu"):
        results["ingest"] = ingest.run(plan.traces, repeat=3)
        results["trace_accuracy"] = accuracy.trace_p99_error(plan.accuracy_traces)
    if wanted("model"):
        results["model"] = topology_build.run(plan.services, plan.model_edges, plan.namespaces)
        # The offline run's first parses filled the interning caches with a 10,000-edge mesh's labels, several
        # times over; the live sessions measure a server of their own mesh, so they start without them.
        istio_queries.forget_interned()
        gc.collect()
    if wanted("main"):
        results["main"] = await main_session(plan)
    if wanted("sweep"):
        results["sweep"] = [await sweep_session(plan, n) for n in plan.sweep]
    if wanted("browser"):
        from tests.e2e.measure_render import measure_sizes  # Playwright: imported only for this session

        # Playwright's sync API refuses a thread with a running event loop
        sizes = [(plan.browser_nodes, plan.browser_edges)]
        results["browser"] = (await asyncio.to_thread(measure_sizes, sizes))[0]
    return results


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version(), "system": platform.platform(),
            "load_avg_at_start": os.getloadavg()[0], "shared": True}  # fmt: skip


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.3g} {unit}"


Row = tuple[str, str, str, str]


def rows(r: dict[str, Any]) -> list[Row]:
    """(figure, value, target, met) for the table; a figure without a target says so."""
    out: list[Row] = []

    def add(name: str, value: str, target: str = "", met: bool | None = None) -> None:
        out.append((name, value, target or "—", "—" if met is None else ("met" if met else "MISSED")))

    for session in ("model", "main"):
        if session in r:
            a = r[session] if session == "model" else r[session]["answers"]
            _answer_rows(add, a)
    if "main" in r:
        m = r["main"]
        e = m["config"]["edges"]
        p5, pall = m["plans"]["5"], m["plans"]["all"]
        for p in (p5, pall):
            add(f"PromQL queries per refresh at {e:,} edges, {p['namespaces']} namespaces: observe (first / then) vs "
                "Kiali", f"{m['first_refresh_queries']:.0f} / {p['observe_queries_per_refresh']:.2f} vs "
                f"{p['kiali_queries_per_refresh']:,}", "≤ 4, same for 5 and 200",
                m["first_refresh_queries"] <= 4
                and p["observe_queries_per_refresh"] == p5["observe_queries_per_refresh"])  # fmt: skip
            extrapolated = "" if p["kiali_queries_timed"] == p["kiali_queries_per_refresh"] else (
                f" (extrapolated from {p['kiali_queries_timed']} queries)")  # fmt: skip
            add(f"plan time on the same Prometheus, {p['namespaces']} namespaces: observe (rates) vs Kiali",
                f"{p['observe_plan_s']:.2f} s vs {p['kiali_plan_s']:.2f} s{extrapolated}")
        f = m["refresh"]
        add(f"end-to-end refresh, rates ({f['refreshes']} refreshes), p95 / median",
            f"{f['refresh_p95_s']:.2f} / {f['refresh_median_s']:.2f} s", "< 1 s p95", f["refresh_p95_s"] < 1)
        add("Prometheus's part of each refresh (its rates query sent → answer read), p95 / median",
            f"{f['prometheus_p95_s']:.2f} / {f['prometheus_median_s']:.2f} s")
        add("our overhead outside Prometheus, p95 / median",
            f"{f['overhead_p95_s'] * 1000:.0f} / {f['overhead_median_s'] * 1000:.0f} ms", "≤ 150 ms",
            f["overhead_p95_s"] <= 0.15)  # fmt: skip
        add("our CPU per refresh (this process's CPU time: parse, build, wire, JSON), p95 / median",
            f"{f['cpu_p95_s'] * 1000:.0f} / {f['cpu_median_s'] * 1000:.0f} ms")
        add("ratio: our refresh / Prometheus's time (medians)", f"{f['ratio_median']:.2f}")
        add("event-loop lag during refreshes, p99 (max)",
            f"{f['loop_lag_p99_ms']:.1f} ({f['loop_lag_max_ms']:.0f}) ms", "< 50 ms", f["loop_lag_p99_ms"] < 50)
        add(f"P99 query at {e:,} edges (3 answers per edge, never raw buckets): raw buckets vs recording rules",
            f"{_p99(m['p99'], 'raw')} vs {_p99(m['p99'], 'rules')}")
        b = m["bounds"]
        add("histogram P99 inside its reported bucket bounds", f"{b['estimate_inside_bucket']} of {b['edges']} edges",
            "always", b["estimate_inside_bucket"] == b["edges"])  # fmt: skip
        add("the synthetic mesh's true P99 inside that bucket", f"{b['true_p99_inside_bucket']} of {b['edges']} edges")
        one, many = m["viewers"]["one"], m["viewers"]["many"]
        add(f"PromQL queries per refresh, 1 viewer vs {many['viewers']} viewers",
            f"{one['queries_per_refresh']:.2f} vs {many['queries_per_refresh']:.2f}", "unchanged",
            many["queries_per_refresh"] <= one["queries_per_refresh"] + 0.5)  # fmt: skip
        add(f"API latency with {many['viewers']} viewers ({many['requests']} requests), p50 / p95",
            f"{many['api_p50_s'] * 1000:.0f} / {many['api_p95_s'] * 1000:.0f} ms")
        v = m["viewers"]
        add(f"RSS of `observe serve` (graph, snapshots, memoised answers) over {v['run_s']:.0f} s of viewers: "
            "start → end (max)", f"{v['rss_start_mb']:.0f} → {v['rss_end_mb']:.0f} MB ({v['rss_max_mb']:.0f})",
            "< 150 MB, flat", v["rss_max_mb"] < 150)  # fmt: skip
    if "ingest" in r:
        i = r["ingest"]
        add("OTLP protobuf ingest with pairing and sketches, one core", _fmt(i["protobuf_ingest_spans_per_s"],
            "spans/s"), "≥ 50,000", i["protobuf_ingest_spans_per_s"] >= 50_000)  # fmt: skip
        add("OTLP JSON ingest with pairing and sketches", _fmt(i["json_ingest_spans_per_s"], "spans/s"),
            "≥ 10,000", i["json_ingest_spans_per_s"] >= 10_000)  # fmt: skip
        t = r["trace_accuracy"]
        add(f"trace P99 vs exact ({t['requests_per_edge']:,} requests per edge), max relative error",
            f"{t['max_relative_error']:.2%}", "≤ 1%", t["max_relative_error"] <= 0.01)
    if "browser" in r:
        b = r["browser"]
        add("browser: first load payload (tests/e2e/measure_render.py)", f"{b['callback_response_bytes'] / 1e3:.0f} KB",
            "≤ 2 MB", b["callback_response_bytes"] <= 2e6)  # fmt: skip
        add("browser: filtered view payload", f"{b['filtered_elements_bytes'] / 1e3:.0f} KB", "≤ 200 KB",
            b["filtered_elements_bytes"] <= 200e3)  # fmt: skip
        add(f"browser: Chromium renders {b['nodes']} nodes / {b['edges']} edges (load → graph; redraw)",
            f"{b['load_to_graph_ms'] / 1000:.1f} s; {b['cytoscape_redraw_ms']:.0f} ms")
    return out


def _answer_rows(add: Callable[..., None], a: dict[str, Any]) -> None:
    add(f"parse all refresh answers ({a['rate_samples'] + a['quantile_samples']:,} samples, "
        f"{a['answer_bytes'] / 1e6:.1f} MB JSON; percentiles: {a['quantiles_from']}), CPU best / median: a "
        "steady mesh (its series seen before); a first answer (every series new)",
        f"{a['parse_all_ms'][0]:.0f} / {a['parse_all_ms'][1]:.0f} ms; first {a['parse_first_ms'][1]:.0f} ms "
        f"(stdlib json.loads alone {a['parse_json_ms'][1]:.0f})", "< 100 ms", a["parse_all_ms"][1] < 100)  # fmt: skip
    add(f"graph build from parsed samples ({a['edges']:,} edges, {a['nodes']:,} nodes), CPU best / median: a rates "
        "refresh (the view's plan reused; percentiles grouped on their own, slower cadence); the first build "
        "after a percentile query; a view's first build, or one whose series changed (every edge planned)",
        f"{a['build_ms'][0]:.0f} / {a['build_ms'][1]:.0f} ms; {a['build_with_percentiles_ms'][1]:.0f} ms; "
        f"first {a['build_first_ms'][1]:.0f} ms", "< 50 ms", a["build_ms"][1] < 50)  # fmt: skip
    add("wire JSON of the whole graph (not a target)", f"{a['wire_ms'][1]:.0f} ms, {a['wire_bytes'] / 1e6:.1f} MB")


def _p99(p: dict[str, Any], label: str) -> str:
    if f"{label}_timed_out_after_s" in p:
        return f"timed out after {p[f'{label}_timed_out_after_s']:.0f} s"
    return f"{p[f'{label}_median_s']:.2f} s" if f"{label}_median_s" in p else "n/a"


def sweep_rows(r: dict[str, Any]) -> list[str]:
    lines = ["| services | edges | series | parse (ms) | build (ms) | refresh (s) | Prometheus (s) | "
             "overhead (ms): median / p95 | our CPU (ms) | observe queries | Kiali queries (time) |",
             "|" + "---|" * 11]  # fmt: skip
    for s in r.get("sweep", []):
        c = s["config"]
        if "error" in s:
            lines.append(f"| {c['services']:,} | {c['edges']:,} | — | {s['error']} |" + " |" * 7)
            continue
        a, f, p = s["answers"], s["refresh"], s["plans"]["all"]
        lines.append(f"| {c['services']:,} | {c['edges']:,} | {c['series']:,} | {a['parse_all_ms'][1]:.0f} | "
                     f"{a['build_ms'][1]:.0f} | {f['refresh_median_s']:.2f} | {f['prometheus_median_s']:.2f} | "
                     f"{f['overhead_median_s'] * 1000:.0f} / {f['overhead_p95_s'] * 1000:.0f} | "
                     f"{f['cpu_median_s'] * 1000:.0f} | "
                     f"{s['first_refresh_queries']:.0f} | "
                     f"{p['kiali_queries_per_refresh']:,} ({p['kiali_plan_s']:.1f} s) |")  # fmt: skip
    return lines


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    head = [
        "# Benchmark results", "",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['system']}; load average at start "
        f"{m['load_avg_at_start']:.2f}. Date: {r['date']}. Times are noisy on a shared VM (the same CPU work "
        "measured up to ~30 % apart between runs): each figure is a median (or p95) of repeated runs, CPU "
        "times are best / median.",
        "Regenerate with `make bench` (or `python -m benchmarks.run --help` for smaller runs). Kiali's plan: "
        f"{QUERIES_PER_NAMESPACE} queries per namespace, from kiali/kiali graph/telemetry/istio/istio.go "
        "(buildNamespaceTrafficMap: 3 HTTP + 3 TCP traffic queries) and appender/response_time.go (3 "
        "histogram_quantile queries); see benchmarks/kiali_plan.py.", "",
        "| figure | value | target | |", "|---|---|---|---|",
    ]  # fmt: skip
    table = [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(r)]
    title = "## Scale sweep (edges = services; medians unless said; parse and build in CPU ms)"
    sweep = ["", title, "", *sweep_rows(r)] if r.get("sweep") else []
    return "\n".join([*head, *table, *sweep, "", LIMITS])


LIMITS = """## What limits each figure

- Parse: a view asks both queries keyed (istio_queries.keyed; plainly if a label value holds the separator):
  Prometheus joins each series' labels into one (label_join), so the answers at 10,000 edges are 6.2 MB
  instead of 15.3. Each is decoded once by msgspec
  into untracked structs (no work for the garbage collector), each sample's joined labels kept as the bytes
  Prometheus sent and its value read as a float in C; each distinct series is parsed once
  (sources.prometheus.ParsedSeries), so what a steady refresh adds per sample is copying and hashing ~100
  bytes of labels and one memo lookup (~0.5 µs), and the model builds from these rows as they are: no typed
  sample per answer sample. A first answer, with every series new, also decodes the labels and interns each
  edge's label object (the "first" figure: a new server, or a mesh whose series all changed). Rows are put in
  first-seen series order when an answer's order differs (over recording rules Prometheus's order changes
  between evaluations), so the build's plan holds. Grows with samples (edges × codes + 3 × edges); a
  rates-only refresh (two of three) skips the percentile answer.
- Build: a view's first build plans every edge: its samples grouped by their interned label object, whose
  nodes are memoised on it; what the labels alone decide (codes, flags, protocol, reporters) and, from that,
  the index arrays of its columns; the networkx graph of its nodes (add_edges_from alone ~15-25 ms at 10,000
  edges); ~10 µs of interpreted work per edge. The plan and its frozen graph are kept per view
  (model.topology), and a refresh whose samples repeat the last one's series in the same order (a steady
  mesh: the parser hands back the same head objects, so the check is one C pass) only folds the new values:
  a few numpy.bincount calls into per-edge columns (model.edge_columns); an edge's EdgeStats is made only
  when read. A new edge, response code or flag plans the view again (the "first" figure). The percentiles
  are grouped once per percentile query (~40 ms at 10,000 edges: a bucket search and a tuple per sample),
  not on every refresh.
- Queries per refresh: fixed by the plan (one mesh-wide rates query, the percentile union on its own slower
  cadence); namespace selection is applied to the answer, so 5 and 200 namespaces cost the same. Kiali's
  grows with namespaces (9 per namespace), and so does its time.
- End-to-end refresh and our overhead: Prometheus's part is the answer time of the refresh's own query (sent →
  body read); the rest is reading and parsing the answer, folding it into the view's plan and writing the
  answer's JSON, in threads that share the GIL and 2 cores with Prometheus, its scrapes and the exporter: the
  tail (p95) is mostly waiting for a core ("our CPU" is the process's own CPU time, which the contention for
  caches also inflates: the same work measures ~1.5× offline). The JSON is written from the columns: every
  number rounded (numpy) and written (one orjson call per column) in bulk, then spliced between the pieces
  of each edge's and node's template, its fixed fields kept as JSON bytes with the plan's graph
  (model.wire.topology_to_json): ~2.5 µs per edge and ~1 per node. Prometheus answers plain
  (OBSERVE_PROMETHEUS_GZIP is off): gzip cost it ~40 ms and us ~10 ms more per 6 MB answer than sending it
  plain over loopback. A refresh that also brings a percentile answer (every 30 s) adds its parse, its
  grouping and the percentile pieces of the templates: ~100 ms at 10,000 edges.
- Event-loop lag: the CPU work runs in threads, which hold the GIL in 5 ms slices; what holds it longer is one
  C call at a time: decoding an answer (~10 ms for 3 MB) and each collection of the garbage collector. A young
  one scans up to 20,000 objects (8-15 ms); one of gen 1, which holds what survived up to 10 young ones, takes
  ~0.1-0.15 s at 2,000 edges (the max; at 50 young ones it took 0.55-0.77 s), and a full one is rarer still.
  A worker process for parse, build and wire would take all of it off the API's loop.
- P99: Prometheus's own rate() over every bucket series (buckets × edges × codes); the recording rule reads
  pre-aggregated bucket rates (one pod per workload here, so it saves less than on a real mesh).
- Memory: the snapshot's parsed rows, the interned label objects, the parsed-series memo (raw label bytes
  per series), per view its plan (~2 KB per edge with its graph, column layout and percentile grouping, which
  the view's topologies share) with its answer's templates (each edge's and node's fixed fields as JSON
  bytes: ~1.6 KB per edge at 10,000 edges), and its newest answer's JSON bytes; answers for older snapshots
  are dropped when a view's next one is built.
- 50 viewers: queries stay one set per refresh (the shared refresh); the API's latency is CPU: each distinct
  (graph, namespaces) answer is built and serialised per snapshot, on the same 2 cores as Prometheus.
- OTLP ingest: protobuf decoding (upb) then one Python step per span for pairing and the sketches; JSON
  adds the decoding of hex ids and attributes in Python.
- Browser: Cytoscape's layout and drawing in Chromium (tests/e2e/measure_render.py), not the payload.
"""


def main(argv: list[str] | None = None, write: Callable[[Path, str], object] = Path.write_text) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a seconds-long run on a tiny mesh (what tests run)")
    parser.add_argument("--services", type=int, default=Plan.services)
    parser.add_argument("--edges", type=int, default=Plan.edges)
    parser.add_argument("--namespaces", type=int, default=Plan.namespaces)
    parser.add_argument("--model-edges", type=int, default=Plan.model_edges, help="edges of the offline model run")
    parser.add_argument("--sweep", default=",".join(map(str, Plan.sweep)), help="services per sweep point")
    parser.add_argument("--only", default="", help="comma-separated sessions: cpu,model,main,sweep,browser")
    parser.add_argument("--out", type=Path, default=HERE, help="directory for RESULTS.md and results.json")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan(services=args.services, edges=args.edges, namespaces=args.namespaces,
                                         model_edges=args.model_edges,
                                         sweep=tuple(int(n) for n in args.sweep.split(",") if n))  # fmt: skip
    results = asyncio.run(run(plan, set(args.only.split(",")) if args.only else None))
    text = markdown(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "RESULTS.md", text)
    write(args.out / "results.json", json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    tune_gc()  # as `observe serve` does, so the in-process figures are the service's
    main()
