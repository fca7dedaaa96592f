"""`observe demo` as a user runs it: starts everything, prints the URLs, serves a topology and the web UI, and
stops cleanly (Prometheus and the UI process included) on SIGTERM. Also `observe topology` against it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.integration.stack import get_json


def _read_urls(proc: subprocess.Popen[str], deadline: float) -> dict[str, str]:
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    while time.time() < deadline and len(urls) < 3:
        line = proc.stdout.readline()
        if not line:
            break
        if match := re.match(r"\s+(UI|API|Prometheus):\s+(http://\S+)", line):
            urls[match.group(1)] = match.group(2)
    return urls


def test_observe_demo_runs_and_stops_cleanly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "observe", "demo", "--port", "0", "--rps", "10", "--scrape-interval", "1",
         "--ui-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        urls = _read_urls(proc, time.time() + 60)
        assert set(urls) == {"UI", "API", "Prometheus"}, urls
        with urllib.request.urlopen(urls["UI"], timeout=10) as page:  # the printed UI URL answers at once
            assert page.status == 200 and b"_dash-config" in page.read()
        api = urls["API"].removesuffix("/api/v1/topology")
        edges: list[dict[str, object]] = []
        deadline = time.time() + 45
        while time.time() < deadline and len(edges) < 7:
            time.sleep(2)
            edges = get_json(f"{api}/api/v1/topology", {"window": "10s"})["edges"]
        assert len(edges) == 7
        table = subprocess.run([sys.executable, "-m", "observe", "topology", "--api-url", api, "--window", "10s"],
                               capture_output=True, text=True, timeout=30, check=True).stdout  # fmt: skip
        assert "bookinfo/productpage/v1" in table and "bookinfo/reviews/v2" in table and "7 edges" in table
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        get_json(urls["Prometheus"] + "/-/ready")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(urls["UI"], timeout=5)
