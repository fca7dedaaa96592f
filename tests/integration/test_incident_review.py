"""Incident review against a real Prometheus holding a known incident, backfilled with promtool.

Two hours and ten minutes of Bookinfo traffic (Istio's destination-reported requests and duration histogram,
a sample every 15 s) are written as OpenMetrics text, turned into TSDB blocks by
`promtool tsdb create-blocks-from openmetrics`, and served by Debian's prometheus binary (no scraping). On
productpage → reviews-v2, half the requests fail with HTTP 500 for twenty minutes around one hour ago.
Then `observe serve` (a subprocess, so it can be restarted on the same data dir):
the topology at the incident shows the failing edge; the diff against an hour before ranks it first; a
snapshot made with the CLI reopens byte for byte after a restart; its HTML report, exported with the CLI,
renders in headless Chromium with every non-file request blocked, and shows the edge.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from observe.cli import main
from observe.demo.prometheus import free_port

STEP_S = 15
HISTORY_S = 2 * 3600 + 600
SPIKE_HALF_S = 600
WINDOW = "5m"
BUCKETS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
NS = "bookinfo"
# (source workload, source app, source version) → (destination workload, app, version), requests per second
EDGES = {
    (("unknown", "unknown", "unknown"), ("productpage-v1", "productpage", "v1")): 10.0,
    (("productpage-v1", "productpage", "v1"), ("details-v1", "details", "v1")): 10.0,
    (("productpage-v1", "productpage", "v1"), ("reviews-v1", "reviews", "v1")): 4.0,
    (("productpage-v1", "productpage", "v1"), ("reviews-v2", "reviews", "v2")): 3.0,
    (("productpage-v1", "productpage", "v1"), ("reviews-v3", "reviews", "v3")): 3.0,
    (("reviews-v2", "reviews", "v2"), ("ratings-v1", "ratings", "v1")): 3.0,
    (("reviews-v3", "reviews", "v3"), ("ratings-v1", "ratings", "v1")): 3.0,
}
SPIKE_EDGE = ("bookinfo/productpage/v1", "bookinfo/reviews/v2")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]  # fmt: skip


def _labels(src: tuple[str, str, str], dst: tuple[str, str, str]) -> str:
    src_ns = "unknown" if src[0] == "unknown" else NS
    pairs = {"reporter": "destination", "source_workload": src[0], "source_canonical_service": src[1],
             "source_canonical_revision": src[2], "source_workload_namespace": src_ns, "destination_workload": dst[0],
             "destination_canonical_service": dst[1], "destination_canonical_revision": dst[2],
             "destination_workload_namespace": NS, "destination_service": f"{dst[1]}.{NS}.svc.cluster.local",
             "request_protocol": "http", "response_flags": "-"}  # fmt: skip
    return ",".join(f'{k}="{v}"' for k, v in pairs.items())


def openmetrics(end: int, spike_at: int) -> str:
    """Counters integrated from the rates above: every request takes 20 ms; the spike edge fails half."""
    times = range(end - HISTORY_S, end + 1, STEP_S)
    requests, durations = ["# TYPE istio_requests counter"], ["# TYPE istio_request_duration_milliseconds histogram"]
    for (src, dst), rps in EDGES.items():
        labels = _labels(src, dst)
        spiky = (src[0], dst[0]) == ("productpage-v1", "reviews-v2")
        ok = failed = 0.0
        by_code: dict[str, list[str]] = {"200": [], "500": []}
        for t in times:
            bad = spiky and abs(t - spike_at) <= SPIKE_HALF_S
            ok += STEP_S * rps * (0.5 if bad else 1.0)
            failed += STEP_S * rps * 0.5 if bad else 0.0
            by_code["200"].append(f'istio_requests_total{{{labels},response_code="200"}} {ok:g} {t}')
            by_code["500"].append(f'istio_requests_total{{{labels},response_code="500"}} {failed:g} {t}')
            total = ok + failed
            for le in BUCKETS:
                count = total if le >= 25 else 0.0
                durations.append(f'istio_request_duration_milliseconds_bucket{{{labels},le="{le:g}"}} {count:g} {t}')
            durations.append(f'istio_request_duration_milliseconds_bucket{{{labels},le="+Inf"}} {total:g} {t}')
            durations.append(f"istio_request_duration_milliseconds_count{{{labels}}} {total:g} {t}")
            durations.append(f"istio_request_duration_milliseconds_sum{{{labels}}} {total * 20:g} {t}")
        requests += by_code["200"] + (by_code["500"] if spiky else [])
    return "\n".join([*requests, *durations, "# EOF", ""])


def _wait(url: str, deadline_s: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: process exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready in {deadline_s}s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def running(argv: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        _wait(ready_url, 60, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A Prometheus serving the backfilled incident; yields its URL and the incident's instant."""
    if not (shutil.which("promtool") and shutil.which("prometheus")):
        pytest.skip("promtool/prometheus not installed (Debian package prometheus)")
    root = tmp_path_factory.mktemp("incident")
    end = int(time.time()) // STEP_S * STEP_S
    spike_at = end - 3600
    source = root / "incident.om"
    source.write_text(openmetrics(end, spike_at))
    data = root / "tsdb"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    argv = ["prometheus", f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=30d", f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with running(argv, f"{url}/-/ready", root / "prometheus.log"):
        yield url, spike_at


def observe_serve(prometheus_url: str, data_dir: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "observe", "serve", "--port", str(port), "--prometheus-url", prometheus_url,
            "--data-dir", str(data_dir), "--recording-rules", "off"]  # fmt: skip


def test_incident_review(prometheus: tuple[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prometheus_url, spike_at = prometheus
    env = {**os.environ, "OBSERVE_SCRAPE_INTERVAL": "15s"}  # so a series point's rate window is ≥ 4 samples
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    state, log = tmp_path / "state", tmp_path / "observe.log"
    with running(observe_serve(prometheus_url, state, port), f"{api}/healthz", log, env):
        topology = get_json(f"{api}/api/v1/topology?at={spike_at}&window={WINDOW}")
        edge = next(e for e in topology["edges"] if (e["source"], e["target"]) == SPIKE_EDGE)
        assert edge["health"] == "failing" and edge["success_rate"] == pytest.approx(0.5, abs=0.05)
        assert edge["rps"] == pytest.approx(3.0, rel=0.05) and topology["missing"] == []

        diff = get_json(f"{api}/api/v1/diff?a_at={spike_at - 3600}&b_at={spike_at}&window={WINDOW}")
        first = diff["edges"][0]
        assert (first["source"], first["target"]) == SPIKE_EDGE and first["lost_rps"] == pytest.approx(1.5, rel=0.1)
        assert all(e["impact"] < first["impact"] / 10 for e in diff["edges"][1:]) and diff["missing"] == []

        assert main(["diff", "--api-url", api, "--a-at", str(spike_at - 3600), "--b-at", str(spike_at),
                     "--window", WINDOW]) == 0  # fmt: skip
        assert " -> ".join(SPIKE_EDGE) in capsys.readouterr().out.splitlines()[1]
        assert main(["snapshot", "create", "--api-url", api, "--title", "reviews-v2 <b>500s</b>",
                     "--at", str(spike_at), "--window", WINDOW, "--namespace", NS]) == 0  # fmt: skip
        snapshot_id = capsys.readouterr().out.strip()
        with urllib.request.urlopen(f"{api}/api/v1/snapshots/{snapshot_id}", timeout=30) as response:
            before = response.read()
        saved = json.loads(before)
        assert any((s["source"], s["target"]) == SPIKE_EDGE for s in saved["series"])
    with running(observe_serve(prometheus_url, state, port), f"{api}/healthz", log, env):  # a restart
        with urllib.request.urlopen(f"{api}/api/v1/snapshots/{snapshot_id}", timeout=30) as response:
            assert response.read() == before
        assert [s["id"] for s in get_json(f"{api}/api/v1/snapshots")["snapshots"]] == [snapshot_id]
        report = tmp_path / "report.html"
        assert main(["snapshot", "export", snapshot_id, "--api-url", api, "--format", "html",
                     "-o", str(report)]) == 0  # fmt: skip
    open_report_offline(report)


def open_report_offline(report: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    blocked: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS, timeout=60_000)
        try:
            page = browser.new_page()
            page.route("**/*", only_files)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(report.as_uri(), timeout=60_000)
            page.wait_for_selector("#graph .main-svg", timeout=30_000)
            table = page.locator("#edges").inner_text()
            title = page.locator("h1").inner_text()
            hover_points = page.locator("#graph .scatterlayer .trace").count()
        finally:
            browser.close()
    assert SPIKE_EDGE[0] in table and SPIKE_EDGE[1] in table and "failing" in table
    assert title == "reviews-v2 <b>500s</b>"  # shown as text, not markup
    assert hover_points >= 3 and errors == [] and blocked == []
