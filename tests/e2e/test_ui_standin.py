"""The UI in headless Chromium against a stand-in API: what the demo mesh cannot produce on demand — a
300-node topology, hostile label text, stale data with missing sources, an API that is down."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.app import create_app
from tests.e2e.conftest import ARTIFACTS, Console, screenshot, served_ui
from tests.e2e.fake_api import FakeApi, fixture
from tests.e2e.measure_render import measure
from tests.e2e.ui_server import UiServer
from tests.unit.dashboards.wire import synthetic_topology

pytestmark = pytest.mark.e2e

Page = tuple[Any, Console]
HOSTILE = '<img src=x onerror="window.__xss=1">'


def hostile_topology() -> dict[str, Any]:
    """Bookinfo where an app label carries markup: it must show as text everywhere, never run."""
    topology = fixture("topology_bookinfo.json")
    for node in topology["nodes"]:
        if node["id"] == "bookinfo/details/v1":
            node["app"] = HOSTILE
    return topology


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[FakeApi, str]]:
    topology = getattr(request, "param", None) or fixture("topology_bookinfo.json")
    with served_ui(lambda: copy.deepcopy(topology)) as running:
        yield running


@pytest.mark.parametrize("served", [synthetic_topology(300, 1000)], indirect=True)
def test_300_nodes_and_1000_edges_render_and_stay_interactive(browser: Any, served: tuple[FakeApi, str]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = measure(browser, served[1], synthetic_topology(300, 1000), str(ARTIFACTS / "large-filtered.png"))
    (ARTIFACTS / "perf.json").write_text(json.dumps(figures, indent=1))
    print("\n" + json.dumps(figures))
    assert figures["elements"] == 10 + 300 + 1000  # everything drawn (measure waits for it, bounded)
    assert figures["filtered_elements_bytes"] < figures["elements_bytes"] / 3  # filtered on the server
    assert figures["drag_frames"] > 5  # the graph redrew while dragged: figures, not a time limit


@pytest.mark.parametrize("served", [hostile_topology()], indirect=True)
def test_label_text_is_escaped_everywhere(page: Page, served: tuple[FakeApi, str]) -> None:
    tab, console = page
    tab.goto(served[1] + "/?edge=bookinfo/productpage/v1->bookinfo/details/v1&watch=bookinfo/reviews")
    tab.wait_for_selector("table.edge-table tbody tr")
    tab.wait_for_selector("#panel-body:not([hidden])")
    assert HOSTILE in tab.inner_text("#panel-title")  # shown as text…
    assert tab.locator("img[src=x]").count() == 0 and tab.evaluate("() => window.__xss") is None  # …never run
    tab.goto(served[1] + "/traces?trace=4bf92f3577b34da6a3ce929d0e0e4736")
    tab.wait_for_selector("#trace-section:not([hidden])")
    assert "<script>alert(1)</script>" in tab.inner_text("#span-details")
    assert tab.evaluate("() => window.__xss") is None and console.errors() == []


@pytest.mark.parametrize("served", [fixture("topology_stale.json")], indirect=True)
def test_stale_data_and_missing_sources_are_said(page: Page, served: tuple[FakeApi, str]) -> None:
    tab, console = page
    tab.goto(served[1] + "/?kiosk=1")
    tab.wait_for_selector(".banner.warn")
    banners = tab.inner_text("#banner")
    assert "Stale data" in banners and "prometheus (rates: timeout after 5s)" in banners and "jaeger" in banners
    tab.wait_for_selector(".tile")
    screenshot(tab, "kiosk-stale")
    assert console.errors() == []


def test_an_api_that_is_down_is_a_message_not_a_crash(page: Page) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ui = UiServer(create_app(dead, timeout_s=2)).start()
    tab, console = page
    try:
        tab.goto(ui.url + "/")
        tab.wait_for_selector(".banner.error")
        assert "is unreachable" in tab.inner_text("#banner")
        tab.goto(ui.url + "/traces")
        tab.wait_for_function("() => document.querySelector('#traces-status')?.innerText.includes('unreachable')")
    finally:
        ui.stop()
    assert console.errors() == []
