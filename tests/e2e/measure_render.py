"""Browser cost of a large topology: elements payload, Chromium render time, pan frame rate, filter round trip.

    .venv/bin/python -m tests.e2e.measure_render            # 100/300, 300/1,000 and 1,000/3,000 nodes/edges

Figures, not pass/fail: the e2e test runs one size and saves the figures to test-artifacts/e2e/perf.json.
Loopback only: a stand-in API serves a synthetic topology to the real UI in headless Debian Chromium.
"""

from __future__ import annotations

import functools
import json
import statistics
import time
from typing import Any

from dashboards.app import create_app
from dashboards.figures.view import topology_view
from dashboards.health import Thresholds
from dashboards.state import ViewState
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.fake_api import FakeApi
from tests.e2e.ui_server import UiServer
from tests.unit.dashboards.wire import synthetic_topology

FILTER = "success<99"
REDRAW = """async () => {  // Cytoscape alone: remove and re-add every element, then wait for two frames
    const json = window.cy.elements().jsons(), t0 = performance.now();
    window.cy.elements().remove(); window.cy.add(json); window.cy.fit();
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0; }"""
# Cytoscape draws in its own animation loop and skips frames when a draw is slow: count its `render` events
FRAMES_START = """() => { window.__frames = [performance.now()];
    window.__onRender = () => window.__frames.push(performance.now()); window.cy.on('render', window.__onRender); }"""
FRAMES_STOP = """() => { window.cy.removeListener('render', window.__onRender); const f = window.__frames;
    f.push(performance.now()); return f.slice(1).map((t, i) => t - f[i]); }"""


def _drag_frames(page: Any) -> list[float]:
    """Intervals (ms) between Cytoscape's draws while the mouse drags the graph across the canvas, as a user
    pans it (60 mouse moves)."""
    box = page.locator("#graph-box").bounding_box()
    x, y = box["x"] + 8, box["y"] + 8  # a corner: inside the fit padding, empty canvas, so the drag pans
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate(FRAMES_START)
    for step in range(60):
        page.mouse.move(x + step * 4, y + step * 2)
    page.mouse.up()
    return sorted(page.evaluate(FRAMES_STOP))


def _elements_bytes(topology: dict[str, Any], state: ViewState) -> int:
    return len(json.dumps(topology_view(topology, state, Thresholds()).elements, separators=(",", ":")))


def _size(response: Any) -> int:
    try:
        return len(response.body())
    except Exception:  # 204 (PreventUpdate) answers have no body to read
        return 0


def measure(browser: Any, ui_url: str, topology: dict[str, Any], screenshot: str | None = None) -> dict[str, float]:
    """One page load of `topology` (served at `ui_url`), then redraw, pan and filter figures."""
    full = topology_view(topology, ViewState(), Thresholds())
    narrow = topology_view(topology, ViewState(filter=FILTER), Thresholds())
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        responses: list[Any] = []
        page.on("response", lambda r: responses.append(r) if "_dash-update-component" in r.url else None)
        page.goto(ui_url + "/?refresh=off&label=none")
        page.wait_for_function(f"() => window.cy && window.cy.elements().length === {len(full.elements)}",
                               timeout=60_000)  # fmt: skip
        first_render_ms = page.evaluate("() => performance.now()")
        callback_bytes = max(_size(r) for r in responses)  # the graph's callback is the largest answer
        redraw_ms = page.evaluate(REDRAW)
        gaps = _drag_frames(page)
        started = time.perf_counter()
        page.fill("#ctl-filter", FILTER)
        page.press("#ctl-filter", "Enter")
        page.wait_for_function(f"() => window.cy.elements().length === {len(narrow.elements)}", timeout=60_000)
        filter_ms = (time.perf_counter() - started) * 1000
        if screenshot:
            page.wait_for_timeout(500)
            page.screenshot(path=screenshot, full_page=True)
    finally:
        page.close()
    return {
        "nodes": len(topology["nodes"]), "edges": len(topology["edges"]), "elements": len(full.elements),
        "elements_bytes": _elements_bytes(topology, ViewState()),
        "filtered_elements": len(narrow.elements),
        "filtered_elements_bytes": _elements_bytes(topology, ViewState(filter=FILTER)),
        "callback_response_bytes": callback_bytes,
        "load_to_graph_ms": round(first_render_ms, 1), "cytoscape_redraw_ms": round(redraw_ms, 1),
        "drag_frames": len(gaps), "drag_frame_median_ms": round(statistics.median(gaps), 1),
        "drag_frame_p95_ms": round(gaps[max(int(len(gaps) * 0.95) - 1, 0)], 1),
        "filter_round_trip_ms": round(filter_ms, 1),
    }  # fmt: skip


def measure_sizes(sizes: list[tuple[int, int]]) -> list[dict[str, float]]:
    """The figures of a synthetic topology of each (nodes, edges) size, in one headless Chromium."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for nodes, edges in sizes:
                topology = synthetic_topology(nodes, edges, namespaces=max(nodes // 30, 1))
                api = FakeApi(functools.partial(dict, topology)).start()
                ui = UiServer(create_app(api.url)).start()
                try:
                    out.append(measure(browser, ui.url, topology))
                finally:
                    ui.stop()
                    api.stop()
        finally:
            browser.close()
    return out


def main() -> None:
    for figures in measure_sizes([(100, 300), (300, 1000), (1000, 3000)]):
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
